"""Pictures of a training run: learning curves, and the gradient flowing back through depth.

Three functions, each writing one image from a :class:`~chainrule.training.history.History`:

- :func:`plot_history`: loss and metric curves (training and validation) per epoch, the
  loss on a log scale when it spans more than two powers of ten;
- :func:`plot_gradient_flow`: the norm ‖∂L/∂W‖ of every layer per epoch on a log scale,
  and its profile over depth at initialization; given the model, each layer is named by
  its path and type ("0 Linear");
- :func:`compare_gradient_flow`: the initialization profiles of several runs on one axis.

The profile is where the lecture notes' "gradient getting progressively more diluted"
becomes visible: in a deep sigmoid network the first layer's gradient is orders of
magnitude below the last layer's; with ReLU and He initialization it is not.

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, so no global plotting state is touched and no display is needed. The suffix of
the path picks the format: ``.png``, ``.pdf``, ``.svg``, ``.eps``, ``.jpg`` or ``.jpeg``
(in any case), PNG when there is none (``/dev/stdout``); any other suffix is a
:class:`~chainrule.errors.HyperparameterError` naming ``path``. Each
image is rendered in memory first and then written atomically: the file is complete or absent.

Epochs: every curve is drawn against the epochs it was recorded at. :class:`History` keeps
one value per epoch but no epoch numbers, so a series shorter than the run (validation
added when resuming a checkpoint older than ``fit``'s validation check; a resumed run now
refuses a changed validation set) holds the run's last epochs: it is drawn ending at the run's
last epoch, which is ``history.epochs`` or the length of its longest series if that is more.

The package is three modules: :mod:`~chainrule.plots.history` (the history figure),
:mod:`~chainrule.plots.gradient_flow` (the two gradient flow figures) and
:mod:`~chainrule.plots.drawing` (what they share: checks, the figure, its axes, saving).
Importing it imports matplotlib, which ``import chainrule`` does not, without matplotlib's two
warnings about a config or cache folder it cannot write (``HOME`` read-only on a cluster node):
see :mod:`~chainrule.plots.folder_warnings`.
"""

from .folder_warnings import folder_warnings_dropped

with folder_warnings_dropped():  # matplotlib picks its config and cache folders as it is imported
    from .drawing import DPI, NON_FINITE_LABEL, PANEL_SIZE, PARTIAL_EPOCH_LABEL
    from .gradient_flow import NOTHING_POSITIVE, VANISHED_LABEL, compare_gradient_flow, plot_gradient_flow
    from .history import NOTHING_FINITE, plot_history

__all__ = ["DPI", "NON_FINITE_LABEL", "NOTHING_FINITE", "NOTHING_POSITIVE", "PANEL_SIZE", "PARTIAL_EPOCH_LABEL",
           "VANISHED_LABEL", "compare_gradient_flow", "plot_gradient_flow", "plot_history"]
