"""Trained models shipped with cellseg (installed as package data), e.g. ``default``.

Each model is a folder; see `cellseg.neural_network.model_folder`.
"""
