"""pandas input and output, and the dtypes every skff estimator accepts."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from _cases import CASE_IDS, CASES, assert_same_outputs, digits, make, outputs

pd = pytest.importorskip("pandas")

COLUMNS = [f"px{i}" for i in range(64)]
SCFF_IDS = [case_id for case_id in CASE_IDS if case_id.startswith("SCFF")]


def _frames():
    """The test digits as DataFrames with string columns and a non-default index."""
    X_train, X_test, y_train, _ = digits()
    train = pd.DataFrame(X_train, columns=COLUMNS, index=[f"train{i}" for i in range(len(X_train))])
    test = pd.DataFrame(X_test, columns=COLUMNS, index=np.arange(len(X_test))[::-1] + 1000)
    return train, test, y_train


@pytest.fixture(scope="module")
def fitted():
    """Each case fitted on the training frame and on the same values as an array."""
    train, _, y = _frames()
    return {case_id: (make(case_id).fit(train, y), make(case_id).fit(train.to_numpy(), y)) for case_id in CASE_IDS}


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_dataframe_keeps_feature_names_and_fits_the_same_model(case_id, fitted):
    _, test, _ = _frames()
    model, from_array = fitted[case_id]
    np.testing.assert_array_equal(model.feature_names_in_, COLUMNS)
    assert model.feature_names_in_.dtype == object
    assert not hasattr(from_array, "feature_names_in_")
    assert_same_outputs(outputs(model, test, case_id), outputs(from_array, test.to_numpy(), case_id))


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_columns_other_than_at_fit_are_rejected(case_id, fitted):
    _, test, _ = _frames()
    model, unnamed = fitted[case_id]
    reordered = test[COLUMNS[::-1]]
    renamed = test.rename(columns={"px0": "pixel0"})
    for name in CASES[case_id][2]:
        method = getattr(model, name)
        with pytest.raises(ValueError, match="feature names should match those that were passed during fit"):
            method(reordered)
        with pytest.raises(ValueError, match="Feature names unseen at fit time:\n- pixel0"):
            method(renamed)
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            method(test.to_numpy())
    with pytest.warns(UserWarning, match="X has feature names, but .* was fitted without feature names"):
        getattr(unnamed, CASES[case_id][2][0])(test)


@pytest.mark.parametrize("case_id", SCFF_IDS)
def test_scff_set_output_pandas(case_id):
    train, test, _ = _frames()
    scff = make(case_id).set_output(transform="pandas")
    fitted_features = scff.fit_transform(train)
    features = scff.transform(test)
    for frame, source in ((fitted_features, train), (features, test)):
        assert isinstance(frame, pd.DataFrame)
        np.testing.assert_array_equal(frame.columns, scff.get_feature_names_out())
        assert frame.index.equals(source.index)
    np.testing.assert_array_equal(features.to_numpy(), scff.set_output(transform="default").transform(test))
    assert list(scff.get_feature_names_out()[:2]) == ["scfftransformer0", "scfftransformer1"]


def test_scff_feature_names_reach_the_next_pipeline_step():
    train, test, y = _frames()
    model = make_pipeline(make("SCFF-dense"), LogisticRegression(C=0.1, max_iter=300)).set_output(transform="pandas")
    model.fit(train, y)
    scff, logistic = model.steps[0][1], model.steps[1][1]
    np.testing.assert_array_equal(logistic.feature_names_in_, scff.get_feature_names_out())
    assert model.predict(test).shape == (len(test),)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_float64_input_fits_silently_like_float32(case_id):
    X_train, X_test, y_train, _ = digits()
    train, test, _ = _frames()
    assert X_train.dtype == np.float64 and (train.dtypes == np.float64).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Short test fits stop at max_iter on purpose.
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        from_float64 = outputs(make(case_id).fit(X_train, y_train), X_test, case_id)
        from_frame = outputs(make(case_id).fit(train, y_train), test, case_id)
    from_float32 = outputs(
        make(case_id).fit(X_train.astype(np.float32), y_train), X_test.astype(np.float32), case_id
    )
    # The computation is float32: the two inputs make the same model.
    assert_same_outputs(from_float64, from_float32)
    assert_same_outputs(from_frame, from_float32)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_integer_input_is_accepted(case_id):
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    as_int = X.astype(np.int64)
    assert np.array_equal(as_int, X)  # the pixels are whole numbers 0..16
    # Unscaled pixels: the cases' step of 0.01 silences every FFClassifier
    # unit (TrainingDivergedError); this test is about dtypes, so a smaller one.
    overrides = {"learning_rate_init": 0.001} if case_id == "FFClassifier" else {}
    expected = outputs(make(case_id, **overrides).fit(X, y), X[:100], case_id)
    assert_same_outputs(outputs(make(case_id, **overrides).fit(as_int, y), as_int[:100], case_id), expected)
    frame = pd.DataFrame(X.astype(np.int32), columns=COLUMNS)
    assert_same_outputs(outputs(make(case_id, **overrides).fit(frame, y), frame.iloc[:100], case_id), expected)
