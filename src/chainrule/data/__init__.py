"""Data for chainrule: built-in data sets, user files, splits and preprocessing.

>>> from chainrule.data import load_data, Preprocessor
>>> data = load_data("iris", seed=0)
>>> preprocessor = Preprocessor.fit(data.X_train, data.y_train, data.task)
>>> preprocessor.transform(data.X_test).shape
(30, 4)
"""

from .csv_file import load_csv, load_csv_features
from .dataset import TASKS, Dataset, infer_task
from .datasets import BUILTIN_DATASETS, DEFAULT_DATASET, load_builtin
from .files import load_file
from .idx_file import load_idx, load_idx_directory, read_idx
from .load import load_data
from .npz_file import load_npz
from .preprocessing import Preprocessor
from .split import shuffled_split_indices, stratified_split_indices, train_test_split

__all__ = [
    "BUILTIN_DATASETS", "DEFAULT_DATASET", "TASKS", "Dataset", "Preprocessor", "infer_task",
    "load_builtin", "load_csv", "load_csv_features", "load_data", "load_file", "load_idx", "load_idx_directory",
    "load_npz", "read_idx", "shuffled_split_indices", "stratified_split_indices", "train_test_split",
]
