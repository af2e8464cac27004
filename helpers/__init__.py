"""The CNN Book's helpers: the small, tested code the chapters import.

The package is organised by what the code does, in rooms a newcomer can guess:

* ``helpers.scratch`` -- what the reader writes by hand: NumPy code that *is* the lesson
  (convolution and pooling with their gradients, activations, normalisation, losses, the
  gradient check, output sizes and parameter counts, the tiny hand-trained CNN);
* ``helpers.models`` -- the networks in PyTorch (MLP, LeNet-5, the CIFAR CNN, the classic
  architectures' blocks, SE/CBAM, ResNets, 1-D/3-D CNNs, a tiny U-Net);
* ``helpers.data`` -- real data sets with clear errors offline, image folders, quick-mode
  stand-ins, generated data, transfer-learning subsets, sample photos;
* ``helpers.training`` -- one ``fit``/``evaluate``/``predict`` for images and float tensors of any
  rank, the device and seed, inputs and augmentation, checkpoints, transfer-learning preparation,
  pre-trained ImageNet weights, speed measurements;
* ``helpers.analysis`` -- looking at trained models: metrics, Grad-CAM and Captum attributions,
  probes inside a network, segmentation scores, the architecture zoo;
* ``helpers.figures`` -- every figure, and nothing else;
* ``helpers.widgets`` -- the interactive explorers;
* ``helpers.config`` (data folder, quick/full mode) and ``helpers.checks`` (an exercise's instant
  feedback) sit at the top, since every chapter uses them.

Why these names: a reader looking for "the convolution I wrote by hand" finds ``scratch``, for
"the network" ``models``, for "a figure" ``figures`` -- by job, not by chapter, so one module
serves every chapter that needs it and no code is written twice.

Every name has one import path: the module that defines it, as its ``__all__`` says
(``from helpers.training.loop import fit``). The top-level package and the sub-packages export
nothing themselves. The authoring and instructor tools live outside this package, in
``tools/booktools`` (installed by ``make``), so ``pip install`` in Colab brings only what the
chapters import.

Chapter -> the modules it and its exercises import (``helpers.`` left out; ``make exercises``
rewrites this list and a test checks it):

.. module-table-start

* 01_why_not_mlp: checks, config, data.photos, models.mlp, scratch.pixels, scratch.shapes
* 02_convolution: analysis.zoo, checks, config, data.photos, figures.convstep, figures.images,
  figures.matrices, scratch.conv, scratch.kernels, scratch.shapes, widgets.conv
* 03_layers: analysis.probes, analysis.spread, checks, config, data.photos, figures.layers,
  models.deep, scratch.activations, scratch.functional, scratch.kernels, scratch.losses,
  scratch.normalization, scratch.pool, scratch.shapes, widgets.activations
* 04_backpropagation: checks, config, scratch.conv, scratch.functional, scratch.gradcheck,
  scratch.pool, scratch.tinycnn
* 05_full_exercise: checks, config, scratch.conv, scratch.functional, scratch.pool, scratch.shapes,
  scratch.tinycnn
* 06_mnist: analysis.spread, checks, config, data.core, data.datasets, data.splits, data.standins,
  figures.images, figures.training, models.classic, scratch.shapes, training.checkpoints,
  training.devices, training.inputs, training.loop
* 07_cifar10: analysis.spread, checks, config, data.datasets, data.splits, data.standins,
  figures.images, figures.interpret, figures.training, models.classic, scratch.shapes,
  training.checkpoints, training.devices, training.inputs, training.loop, training.speed
* 08_architectures: analysis.spread, analysis.zoo, checks, config, data.datasets, data.splits,
  figures.layers, figures.training, figures.zoo, models.attention, models.blocks, models.classic,
  models.resnets, scratch.shapes, training.devices, training.inputs, training.loop, training.speed
* 09_transfer: analysis.spread, checks, config, data.datasets, data.folders, data.imagenet,
  data.splits, data.standins, data.subsets, figures.images, models.classic, scratch.shapes,
  training.checkpoints, training.devices, training.heads, training.loop, training.pretrained,
  training.transfer
* 10_evaluation: analysis.metrics, checks, config, data.datasets, data.standins, figures.metrics,
  figures.training, models.classic, scratch.shapes, training.checkpoints, training.devices,
  training.loop
* 11_interpretability: analysis.attributions, analysis.faithfulness, analysis.gradcam,
  analysis.perturbation, checks, config, data.datasets, data.imagenet, data.photos,
  figures.interpret, figures.training, models.classic, training.checkpoints, training.devices,
  training.inputs, training.loop, training.pretrained
* 12_beyond_2d: analysis.metrics, analysis.segmentation, checks, config, data.generated,
  figures.images, figures.metrics, figures.signals, figures.training, models.nd, scratch.shapes,
  training.devices, training.loop
* 13_speedrun: analysis.spread, checks, config, data.core, data.datasets, data.jpeg, data.splits,
  figures.interpret, figures.speedrun, models.classic, models.speedrun, scratch.shapes,
  training.checkpoints, training.devices, training.speed, training.speedaug, training.speedrun,
  training.whitening
* A1_distributed: config, models.classic, scratch.shapes, training.checkpoints, training.devices,
  training.distributed, training.processes

.. module-table-end
"""

__version__ = "0.1.0"
