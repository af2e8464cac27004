"""What the reader writes by hand: NumPy code that *is* the lesson (Parts I-V).

Convolution and pooling with their gradients, activations, normalisation, losses, the
finite-difference gradient check, output sizes and parameter counts, and the tiny CNN trained
by a hand-written step. Each function is checked against PyTorch in the tests.
"""
