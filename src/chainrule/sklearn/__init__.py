"""scikit-learn estimators backed by chainrule networks.

``MLPClassifier`` and ``MLPRegressor`` take scikit-learn's MLP hyperparameters, work in
``Pipeline``, ``GridSearchCV`` and ``cross_val_score``, pass scikit-learn's estimator checks,
save to chainrule model files (``est.save(path)``, ``MLPClassifier.load(path)``), and export
to ONNX graphs that compute ``predict`` and ``predict_proba`` (``est.to_onnx(path)``).

>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from chainrule.sklearn import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> classifier = MLPClassifier((16,), learning_rate_init=0.01, max_iter=500, random_state=0)
>>> pipeline = make_pipeline(StandardScaler(), classifier)
>>> pipeline.fit(X, y).score(X, y) > 0.9
True
"""

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
