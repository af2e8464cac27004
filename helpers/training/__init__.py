"""Training: ``fit``/``evaluate``/``predict``, the device and seed, inputs and augmentation,
checkpoints, transfer-learning preparation, pre-trained ImageNet weights, speed measurements.
"""
