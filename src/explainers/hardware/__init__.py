"""CPU vs GPU: matrix multiply measured where the book is built, and recorded GPU runs.

The scene's files: ``train`` (this machine's benchmark and the serial-vs-parallel schedules, cached),
``runs`` (``runs()``: both with the recorded GPU runs, as one typed object), ``charts`` (``PAGE``,
``CHARTS``, ``chart(id, runs)``; Bokeh, no torch), ``facts`` (``facts(runs)``: what the chapter quotes)
and ``words`` (the formats and series readers both use). Beside them: ``peak`` (each device's peak
FLOP/s), ``records`` (the GPU records and the command that makes one) and ``trainer_times`` (the book's
trainers timed on the CPU and on the GPU, stored in a record).
"""
