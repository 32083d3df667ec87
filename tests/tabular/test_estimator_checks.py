"""scikit-learn's estimator checks on TabularPreprocessor: every check runs and passes."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from automl.tabular import TabularPreprocessor


@parametrize_with_checks([TabularPreprocessor(), TabularPreprocessor(min_frequency=0.1)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
