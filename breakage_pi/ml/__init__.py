"""The nets: numpy MLP training, ONNX export, onnxruntime inference, several error targets.

Import the submodules you need; this package imports nothing, so a training
child process never loads onnx or onnxruntime. The flow:
:mod:`.dataset` (bank to training set) -> :mod:`.train` (snapshots per error
target, in-process or in a child via :mod:`.process`) -> :mod:`.net` (numpy
reference) -> :mod:`.onnx_export` (bytes of a ``.onnx`` file) ->
:mod:`.netfile` (checked load) -> :mod:`.session` (onnxruntime, live, on the
graph wrapped by :mod:`.velocity_io`) and :mod:`.netbank` (the nets of one
run, switched live). :mod:`.summary` writes the text a person reads;
:mod:`.evalset` and :mod:`.quality` measure nets against simple baselines.
What a net plays goes through :mod:`breakage_pi.core.gate`.
"""
