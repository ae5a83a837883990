"""Opening the black box: superposition in toy models, and sparse autoencoders (dictionaries) that undo it."""
