"""Anomaly detection (detect_anomaly, set_detect_anomaly) and the Variable alias, against PyTorch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import matgrad as mg
from matgrad.autograd import anomaly_mode
from matgrad.autograd.op import Op


def _nan_error(lib, **kw):
    """The error and warnings of a backward whose Div node returns nan (d/dx of (x*0)/x at x=0)."""
    x = lib.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"), lib.autograd.detect_anomaly(**kw):
            z = (x * 0 / x).sum()  # the forward line the warning must name
            try:
                z.backward()
            except RuntimeError as e:
                return str(e), [str(w.message) for w in caught]
    return None, [str(w.message) for w in caught]


def test_nan_error_matches_torch():
    torch = pytest.importorskip("torch")
    ours, ours_warnings = _nan_error(mg)
    theirs, theirs_warnings = _nan_error(torch)
    assert ours == theirs == "Function 'DivBackward0' returned nan values in its 1th output."
    assert ours_warnings[0] == theirs_warnings[0]  # "Anomaly Detection has been enabled. ..."
    trace = [w for w in ours_warnings if w.startswith("Error detected in DivBackward0")]
    assert len(trace) == 1
    assert "Traceback of forward call that caused the error:" in trace[0]
    assert "z = (x * 0 / x).sum()" in trace[0] and "test_anomaly.py" in trace[0]
    assert "matgrad/ops" not in trace[0] and "op.py" not in trace[0]  # matgrad's internals stand for torch's C++


def test_check_nan_false_lets_nan_through():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        err, _ = _nan_error(lib, check_nan=False)
        assert err is None


def test_flags_and_set_detect_anomaly_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (False, True)
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (True, False)
            with lib.autograd.set_detect_anomaly(False):
                assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (False, True)
            assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (True, False)
        assert (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()) == (False, True)
        lib.autograd.set_detect_anomaly(True)  # takes effect without a with block
        assert lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)
        assert not lib.is_anomaly_enabled()


def test_off_means_nothing_recorded_and_apply_restored():
    plain = Op.__dict__["apply"]
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert getattr((x * 2).grad_fn, "_anomaly_trace", None) is None
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), mg.autograd.detect_anomaly():
        assert Op.__dict__["apply"] is not plain
        assert (x * 2).grad_fn._anomaly_trace is not None
    assert Op.__dict__["apply"] is plain
    with np.errstate(all="ignore"):
        y = x * 0 / mg.tensor([0.0, 1.0])
        y.sum().backward()  # nan gradient, but anomaly mode is off: no error
    assert np.isnan(x.grad.array[0])


def test_node_made_before_anomaly_mode_has_no_forward_trace():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        z = (x * 0 / x).sum()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with mg.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="DivBackward0"):
                z.backward()
    assert any("No forward pass information available" in str(w.message) for w in caught)


def test_function_names_match_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        class Sqrtish(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 1

            @staticmethod
            def backward(ctx, g):
                return g * float("nan")

        def step():
            with lib.autograd.detect_anomaly():
                x = lib.tensor(np.array([1.0]), requires_grad=True)
                Sqrtish.apply(x).sum().backward()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError) as info:
                step()
        assert not lib.is_anomaly_enabled()
        return str(info.value)

    assert run(mg) == run(torch) == "Function 'SqrtishBackward' returned nan values in its 0th output."


def test_create_graph_backward_is_checked_too():
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"), mg.autograd.detect_anomaly():
            z = (x * 0 / x).sum()
            with pytest.raises(RuntimeError, match="'DivBackward0' returned nan values in its 1th output"):
                mg.autograd.grad(z, x, create_graph=True)


def test_other_backward_errors_show_the_forward_trace():
    class Broken(mg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    x = mg.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with mg.autograd.detect_anomaly():
            y = Broken.apply(x)  # the forward line
            with pytest.raises(ValueError, match="broken backward"):
                y.sum().backward()
    trace = [str(w.message) for w in caught if "Error detected in BrokenBackward" in str(w.message)]
    assert len(trace) == 1 and "y = Broken.apply(x)" in trace[0]


def test_anomaly_state_module_reports_names():
    x = mg.tensor([1.0], requires_grad=True)
    assert anomaly_mode.node_name((x * 2).grad_fn) == "MulBackward0"


# --- Variable ---------------------------------------------------------------------------------

def test_variable_matches_torch():
    torch = pytest.importorskip("torch")
    for lib in (mg, torch):
        t = lib.ones(2)
        v = lib.autograd.Variable(t, requires_grad=True)
        assert type(v) is type(t) and v is not t and v.requires_grad and v.is_leaf and not t.requires_grad
        assert isinstance(t, lib.autograd.Variable) and not isinstance(3, lib.autograd.Variable)
        w = lib.autograd.Variable(v * 2)
        assert not w.requires_grad and w.grad_fn is None
        v.detach().numpy()[0] = 5.0  # shares t's data, as detach does
        assert float(t[0]) == 5.0
        assert tuple(lib.autograd.Variable().shape) == (0,)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            lib.autograd.Variable([1.0, 2.0])
        with pytest.warns(UserWarning, match="volatile was removed"), \
                pytest.raises(ValueError, match="can't be volatile and require_grad"):
            lib.autograd.Variable(t, True, True)


def test_variable_gradient_flows_to_the_new_leaf():
    v = mg.autograd.Variable(mg.tensor([1.0, 2.0], dtype=mg.float64), requires_grad=True)
    (v * v).sum().backward()
    np.testing.assert_allclose(v.grad.array, [2.0, 4.0], rtol=1e-12)


def test_nan_check_on_the_test_device():
    from matgrad import devices
    from tests.devices.conftest import fake_backend
    from tests.devices.fake_cupy import ndarray

    before = devices.set_cuda_backend(fake_backend())
    try:
        x = mg.tensor([0.0, 1.0], requires_grad=True).to("cuda")
        x.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"), mg.autograd.detect_anomaly():
                z = (x * 0 / x).sum()
                assert isinstance(z.array, ndarray)
                with pytest.raises(RuntimeError, match="'DivBackward0' returned nan values in its 1th output"):
                    z.backward()
    finally:
        devices.restore_cuda_backend(before)
