"""The book's colours. They keep the seed's meanings (blue data, red current, green optimum, yellow
path); every mark also has its own shape, so no meaning rests on colour alone."""
DATA = "#1f77b4"
CURRENT = "#d62728"
OPTIMUM = "#2ca02c"
PATH = "#f2c80f"
PATH_EDGE = "#7a5c00"
MUTED = "#8c8c8c"
LANDSCAPE = ("#eef3fb", "#dce7f6", "#c6d8f0", "#aac4e7", "#8aacdc", "#6a93cf", "#4f7cc0", "#3a67ad",
             "#2a5398", "#1d4080")
