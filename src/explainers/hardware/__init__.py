"""CPU vs GPU: matrix multiply measured where the book is built, and recorded GPU runs.

The scene's files: ``train`` (``runs()``: this machine's benchmark, the serial-vs-parallel schedules and
the recorded GPU runs), ``charts`` (``PAGE``, ``CHARTS``, ``chart(id, runs)``; Bokeh, no torch) and
``facts`` (``facts(runs)``: what the chapter quotes). Beside them: ``peak`` (each device's peak FLOP/s),
``records`` (the GPU records and the command that makes one) and ``trainer_times`` (the book's trainers
timed on the CPU and on the GPU, stored in a record).
"""
