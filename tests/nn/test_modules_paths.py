"""matgrad.nn.modules mirrors torch.nn.modules: every submodule, every public name (and the private bases code
checks with isinstance) imports from the same path, or is in the skip lists below with the reason; and the
subclass relations among all those classes are torch's, so `isinstance(m, _BatchNorm)` sorts layers the same."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from collections import OrderedDict

import pytest

import matgrad as mg
import matgrad.nn as nn
from matgrad.nn.modules import utils as mg_utils

torch = pytest.importorskip("torch")
import torch.nn.modules as torch_modules  # noqa: E402

#: torch.nn.modules submodules matgrad does not mirror
SKIP_SUBMODULES = {
    "linear_cross_entropy": "no public names (its __all__ is empty): torch's chunked kernel; the loss is in "
                            "modules.loss and its options in modules.linear_cross_entropy_options",
}

#: (submodule, name) torch has and matgrad does not; "" is the package torch.nn.modules itself
SKIP_NAMES = {
    ("", "Container"): "deprecated in torch (FutureWarning): subclass Module instead",
    ("container", "Container"): "deprecated in torch (FutureWarning): subclass Module instead",
    ("", "CrossMapLRN2d"): "Lua-torch's LRN layer, kept in torch for old models: use LocalResponseNorm",
    ("normalization", "CrossMapLRN2d"): "Lua-torch's LRN layer, kept in torch for old models: use LocalResponseNorm",
    ("batchnorm", "sync_batch_norm"): "torch's autograd Function behind SyncBatchNorm, not an API",
    ("rnn", "apply_permutation"): "deprecated in torch: use tensor.index_select(dim, permutation)",
    ("module", "BackwardHook"): "torch's machinery for full backward hooks (matgrad's: nn/backward_hooks.py)",
    ("module", "is_traceable_wrapper_subclass"): "tensor-subclass dispatch, which matgrad does not have",
    ("module", "dtype"): "matgrad's dtypes are NumPy dtypes: there is no dtype class to import",
    ("module", "_WrappedHook"): "torch's weakref wrapper for hooks registered with with_module=True",
    **{("module", f"register_module_{kind}"): "matgrad has no global module hooks: register the hook on each module"
       for kind in ("forward_pre_hook", "forward_hook", "full_backward_pre_hook", "backward_hook",
                    "full_backward_hook", "buffer_registration_hook", "module_registration_hook",
                    "parameter_registration_hook")},
    ("conv", "_ConvTransposeMixin"): "deprecated in torch (a FutureWarning shim): use _ConvTransposeNd",
    ("lazy", "_LazyProtocol"): "a typing Protocol for torch's type checker, never instantiated",
    ("linear_cross_entropy_options", "_AutoDefault"): "torch's sentinel for the options' defaults",
}

#: public names torch's files import that are not API: the torch package itself and TypeVars
NOT_API = {"torch", "T"}


def _torch_submodules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(torch_modules.__path__) if not m.name.startswith("_"))


def _is_python_own(obj: object) -> bool:
    """A name from Python itself (typing, math, warnings, collections ...) imported in torch's file."""
    origin = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    return not (isinstance(origin, str) and origin.split(".")[0] == "torch")


def _names_to_mirror(sub: str) -> list[str]:
    """torch's public names in that file that are torch's, plus its own private classes and (utils) helpers."""
    mod = importlib.import_module(f"torch.nn.modules.{sub}")
    out = []
    for name in dir(mod):
        obj = getattr(mod, name)
        if name.startswith("__"):
            continue
        if name.startswith("_"):
            own = getattr(obj, "__module__", None) == mod.__name__
            if own and (inspect.isclass(obj) or (sub == "utils" and inspect.isfunction(obj))):
                out.append(name)
            continue
        if name in getattr(mod, "__all__", ()) or not (_is_python_own(obj) or name in NOT_API):
            out.append(name)
    return out


@pytest.mark.parametrize("sub", _torch_submodules())
def test_each_submodule_and_its_names_import(sub):
    if sub in SKIP_SUBMODULES:
        with pytest.raises(ImportError):
            importlib.import_module(f"matgrad.nn.modules.{sub}")
        return
    mine = importlib.import_module(f"matgrad.nn.modules.{sub}")
    assert getattr(nn.modules, sub) is mine  # reachable as an attribute, as torch.nn.modules.<sub>
    missing = [n for n in _names_to_mirror(sub) if (sub, n) not in SKIP_NAMES and not hasattr(mine, n)]
    assert missing == [], f"torch.nn.modules.{sub} has these, matgrad.nn.modules.{sub} not"
    if hasattr(importlib.import_module(f"torch.nn.modules.{sub}"), "__all__") and hasattr(mine, "__all__"):
        assert sorted(mine.__all__) == sorted(importlib.import_module(f"torch.nn.modules.{sub}").__all__)


def test_the_package_exports_torchs_all():
    missing = [n for n in torch_modules.__all__ if ("", n) not in SKIP_NAMES and not hasattr(nn.modules, n)]
    assert missing == []
    assert sorted(nn.modules.__all__) == sorted(n for n in torch_modules.__all__ if ("", n) not in SKIP_NAMES)


def test_skip_lists_are_honest():
    """Each skipped name exists in torch and is really absent here (else it should come off the list)."""
    for sub, name in SKIP_NAMES:
        t_mod = torch_modules if not sub else importlib.import_module(f"torch.nn.modules.{sub}")
        m_mod = nn.modules if not sub else importlib.import_module(f"matgrad.nn.modules.{sub}")
        assert hasattr(t_mod, name), (sub, name)
        assert not hasattr(m_mod, name), (sub, name)
    assert set(SKIP_SUBMODULES) <= set(_torch_submodules())


def test_names_are_matgrads_own_objects():
    """A re-export, not a copy: modules.batchnorm.BatchNorm2d is nn.BatchNorm2d, modules.module.Module is nn.Module."""
    for sub in _torch_submodules():
        if sub in SKIP_SUBMODULES:
            continue
        mine = importlib.import_module(f"matgrad.nn.modules.{sub}")
        for name in dir(mine):
            obj = getattr(mine, name)
            if not name.startswith("_") and inspect.isclass(obj) and hasattr(nn, name):
                assert obj is getattr(nn, name), (sub, name)
    assert nn.modules.module.Module is nn.Module and nn.modules.linear.F is nn.functional
    assert nn.modules.module.RemovableHandle is mg.utils.hooks.RemovableHandle


def _class_pairs() -> list[tuple[str, type, type]]:
    """Every class torch's submodules define (public and private), with its matgrad counterpart where one exists."""
    found = {}
    for sub in _torch_submodules():
        t_mod = importlib.import_module(f"torch.nn.modules.{sub}")
        try:
            m_mod = importlib.import_module(f"matgrad.nn.modules.{sub}")
        except ImportError:
            continue
        for name in dir(t_mod):
            t_cls = getattr(t_mod, name)
            if inspect.isclass(t_cls) and t_cls.__module__ == t_mod.__name__ and inspect.isclass(getattr(m_mod, name,
                                                                                                         None)):
                found[name] = (t_cls, getattr(m_mod, name))
    return sorted((name, t, m) for name, (t, m) in found.items())


def test_class_coverage():
    names = {name for name, _, _ in _class_pairs()}
    for base in ("_BatchNorm", "_NormBase", "_InstanceNorm", "_LazyNormBase", "_ConvNd", "_ConvTransposeNd",
                 "_LazyConvXdMixin", "_Loss", "_WeightedLoss", "_MaxPoolNd", "_AvgPoolNd", "_AdaptiveAvgPoolNd",
                 "_AdaptiveMaxPoolNd", "_MaxUnpoolNd", "_LPPoolNd", "_DropoutNd", "_ConstantPadNd",
                 "_ReflectionPadNd", "_ReplicationPadNd", "_CircularPadNd", "RNNBase", "RNNCellBase",
                 "LazyModuleMixin", "Module", "SyncBatchNorm", "NonDynamicallyQuantizableLinear"):
        assert base in names, base
    assert len(names) >= 150


def test_subclass_relations_are_torchs():
    pairs = _class_pairs()
    wrong = [f"{a} ⊂ {b}: torch {issubclass(ta, tb)}, matgrad {issubclass(ma, mb)}"
             for a, ta, ma in pairs for b, tb, mb in pairs
             if a != b and issubclass(ta, tb) != issubclass(ma, mb)]
    assert wrong == []


def test_isinstance_on_instances_as_torch():
    from matgrad.nn.modules.batchnorm import _BatchNorm, _NormBase
    from matgrad.nn.modules.conv import _ConvNd, _ConvTransposeNd
    from matgrad.nn.modules.dropout import _DropoutNd
    from matgrad.nn.modules.instancenorm import _InstanceNorm
    from matgrad.nn.modules.loss import _Loss, _WeightedLoss
    from matgrad.nn.modules.pooling import _AdaptiveAvgPoolNd, _AvgPoolNd, _MaxPoolNd

    t_nn, T = torch.nn, torch.nn.modules
    cases = [
        ("BatchNorm2d(3)", _BatchNorm, T.batchnorm._BatchNorm),
        ("InstanceNorm2d(3)", _BatchNorm, T.batchnorm._BatchNorm),
        ("InstanceNorm2d(3)", _NormBase, T.batchnorm._NormBase), ("InstanceNorm1d(3)", _InstanceNorm,
                                                                   T.instancenorm._InstanceNorm),
        ("SyncBatchNorm(3)", _BatchNorm, T.batchnorm._BatchNorm), ("LazyBatchNorm1d()", _BatchNorm,
                                                                   T.batchnorm._BatchNorm),
        ("LazyBatchNorm1d()", nn.BatchNorm1d, t_nn.BatchNorm1d), ("LayerNorm(3)", _NormBase, T.batchnorm._NormBase),
        ("GroupNorm(1, 3)", _BatchNorm, T.batchnorm._BatchNorm), ("Conv1d(2, 2, 1)", _ConvNd, T.conv._ConvNd),
        ("Conv3d(2, 2, 1)", _ConvNd, T.conv._ConvNd), ("ConvTranspose2d(2, 2, 1)", _ConvTransposeNd,
                                                       T.conv._ConvTransposeNd),
        ("Conv2d(2, 2, 1)", _ConvTransposeNd, T.conv._ConvTransposeNd), ("LazyConv2d(2, 1)", _ConvNd, T.conv._ConvNd),
        ("Dropout2d()", _DropoutNd, T.dropout._DropoutNd), ("MaxPool1d(2)", _MaxPoolNd, T.pooling._MaxPoolNd),
        ("AvgPool3d(2)", _AvgPoolNd, T.pooling._AvgPoolNd), ("AdaptiveAvgPool2d(1)", _AdaptiveAvgPoolNd,
                                                             T.pooling._AdaptiveAvgPoolNd),
        ("MSELoss()", _WeightedLoss, T.loss._WeightedLoss), ("NLLLoss()", _WeightedLoss, T.loss._WeightedLoss),
        ("HuberLoss()", _Loss, T.loss._Loss), ("Softshrink()", nn.Hardshrink, t_nn.Hardshrink),
        ("ZeroPad2d(1)", nn.ConstantPad2d, t_nn.ConstantPad2d), ("LPPool2d(2, 2)", nn.LPPool1d, t_nn.LPPool1d),
        ("Dropout3d()", nn.Dropout1d, t_nn.Dropout1d),
    ]
    for expr, mine, theirs in cases:
        assert isinstance(eval(f"nn.{expr}"), mine) == isinstance(eval(f"t_nn.{expr}"), theirs), expr


def test_lazy_norm_becomes_its_class_after_the_first_forward_as_torch():
    from matgrad.nn.modules.batchnorm import _BatchNorm

    m, t = nn.LazyBatchNorm2d(), torch.nn.LazyBatchNorm2d()
    assert isinstance(m, nn.BatchNorm2d) == isinstance(t, torch.nn.BatchNorm2d) is False
    m(mg.ones(2, 3, 4, 4))
    t(torch.ones(2, 3, 4, 4))
    assert type(m) is nn.BatchNorm2d and type(t) is torch.nn.BatchNorm2d and isinstance(m, _BatchNorm)


def test_weight_decay_grouping_sorts_parameters_as_torch():
    """The pattern the paths exist for: no decay for norm layers and biases, found with isinstance on the bases."""
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(3, 4, 3), n.BatchNorm2d(4), n.InstanceNorm2d(4, affine=True), n.ReLU(),
                            n.Flatten(), n.LazyLinear(5), n.LayerNorm(5), n.GroupNorm(1, 5), n.Linear(5, 2))

    def groups(model, norm_bases):
        decay, no_decay = [], []
        for mod_name, module in model.named_modules():
            for p_name, _ in module.named_parameters(recurse=False):
                full = f"{mod_name}.{p_name}" if mod_name else p_name
                (no_decay if p_name == "bias" or isinstance(module, norm_bases) else decay).append(full)
        return sorted(decay), sorted(no_decay)

    from matgrad.nn.modules.batchnorm import _BatchNorm
    from matgrad.nn.modules.instancenorm import _InstanceNorm

    T = torch.nn.modules
    mine = groups(build(mg), (_BatchNorm, nn.LayerNorm))
    theirs = groups(build(torch), (T.batchnorm._BatchNorm, torch.nn.LayerNorm))
    assert mine == theirs and "1.weight" in mine[1] and "2.weight" in mine[0]  # InstanceNorm is no _BatchNorm
    assert groups(build(mg), (_InstanceNorm,)) == groups(build(torch), (T.instancenorm._InstanceNorm,))


# --- modules.utils -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arg", [3, 2.5, (1, 2), [4, 5, 6], (), "ab", range(3), None])
def test_ntuple_helpers_are_torchs(arg):
    T = torch.nn.modules.utils
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        assert getattr(mg_utils, name)(arg) == getattr(T, name)(arg), name
        assert getattr(mg_utils, name).__name__ == name
    assert mg_utils._ntuple(5, "five")(arg) == T._ntuple(5, "five")(arg)


def test_known_answers_of_the_helpers():
    assert mg_utils._pair(3) == (3, 3) and mg_utils._triple((1, 2, 3)) == (1, 2, 3) and mg_utils._single(7) == (7,)
    assert mg_utils._reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)
    assert mg_utils._list_with_default([None, 3], [8, 9, 10]) == [9, 3]
    assert mg_utils._list_with_default(4, [1, 2]) == 4


@pytest.mark.parametrize("t, n", [((1, 2), 2), ((1, 2, 3), 1), ((), 3), ((5,), 0)])
def test_reverse_repeat_tuple_is_torchs(t, n):
    assert mg_utils._reverse_repeat_tuple(t, n) == torch.nn.modules.utils._reverse_repeat_tuple(t, n)


@pytest.mark.parametrize("out_size, defaults", [([None, 3], [8, 9, 10]), ([2, None], [5, 7, 6]), (5, [1, 2])])
def test_list_with_default_is_torchs(out_size, defaults):
    assert mg_utils._list_with_default(out_size, defaults) == torch.nn.modules.utils._list_with_default(out_size,
                                                                                                       defaults)


def test_list_with_default_errors_as_torch():
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        mg_utils._list_with_default([1, 2], [4, 5])
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        torch.nn.modules.utils._list_with_default([1, 2], [4, 5])


def _state_dict_with_metadata():
    sd = OrderedDict([("module.weight", 1), ("module.bias", 2), ("other", 3)])
    sd._metadata = OrderedDict([("", {"v": 0}), ("module", {"v": 1}), ("module.sub", {"v": 2}), ("x", {"v": 3})])
    return sd


def test_consume_prefix_is_torchs():
    mine, theirs = _state_dict_with_metadata(), _state_dict_with_metadata()
    mg_utils.consume_prefix_in_state_dict_if_present(mine, "module.")
    torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(theirs, "module.")
    assert list(mine.items()) == list(theirs.items()) == [("other", 3), ("weight", 1), ("bias", 2)]
    assert list(mine._metadata.items()) == list(theirs._metadata.items())
    plain = {"a.x": 1}
    mg_utils.consume_prefix_in_state_dict_if_present(plain, "b.")
    assert plain == {"a.x": 1}


def test_consume_prefix_loads_a_data_parallel_checkpoint():
    model = nn.Linear(2, 3)
    wrapped = nn.Sequential(OrderedDict([("module", nn.Linear(2, 3))]))
    sd = wrapped.state_dict()
    mg_utils.consume_prefix_in_state_dict_if_present(sd, "module.")
    model.load_state_dict(sd)
    assert (model.weight.numpy() == wrapped.module.weight.numpy()).all()


def test_convert_sync_batchnorm_leaves_instance_norm_as_torch():
    """convert_sync_batchnorm picks layers with isinstance(m, _BatchNorm): InstanceNorm is not one, in either."""
    def kinds(lib):
        n = lib.nn
        model = n.Sequential(n.BatchNorm2d(3), n.InstanceNorm2d(3), n.LazyBatchNorm1d(), n.GroupNorm(1, 3))
        return [type(m).__name__ for m in n.SyncBatchNorm.convert_sync_batchnorm(model)]

    assert kinds(mg) == kinds(torch) == ["SyncBatchNorm", "InstanceNorm2d", "SyncBatchNorm", "GroupNorm"]
