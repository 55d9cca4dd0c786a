"""The model recipes: every name is registered, builds a network of the right shape, and trains as named."""
from __future__ import annotations

import numpy as np
import pytest

import matgrad as mg
from matgrad import models
from matgrad.models import cnn, lstm, mlp, vit


def test_every_recipe_is_registered_by_its_name() -> None:
    assert models.names() == ["mlp", "mlp-best", "cnn", "lstm", "vit"]
    assert models.get("mlp") is mlp.SEED_RECIPE and models.get("cnn") is cnn.RECIPE
    assert models.get("lstm") is lstm.RECIPE and models.get("vit") is vit.RECIPE
    with pytest.raises(KeyError, match="unknown model 'gru'; known models: mlp, mlp-best, cnn, lstm, vit"):
        models.get("gru")


@pytest.mark.parametrize("name", ["mlp", "mlp-best", "cnn", "lstm", "vit"])
@pytest.mark.parametrize("input_shape", [(1, 8, 8), (1, 28, 28)])
def test_each_recipe_builds_a_network_for_the_data_it_is_given(name: str, input_shape: tuple[int, ...]) -> None:
    recipe = models.get(name)
    net = recipe.build(input_shape, 10)
    net.eval()
    x = np.zeros((2, *input_shape), np.float32)
    out = net(mg.from_numpy(x.reshape(2, -1) if recipe.flatten_input else x))
    assert out.shape == (2, 10)
    if recipe.output == "probabilities":  # the seed recipe ends in a sigmoid
        assert 0 <= out.array.min() and out.array.max() <= 1


def test_a_recipe_loss_fits_its_output() -> None:
    for recipe in models.RECIPES.values():
        assert (recipe.loss == "bce") == (recipe.output == "probabilities"), recipe.name


# --- the sequence recipes: lstm (rows as time steps) and vit (patches as tokens) ------------------------

SEQUENCE_RECIPES = ["lstm", "vit"]


def _batch(input_shape: tuple[int, ...], n: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, *input_shape), dtype=np.float32), rng.integers(0, 10, n)


def test_the_sequence_recipes_train_as_the_issue_asks() -> None:
    for name in SEQUENCE_RECIPES:
        r = models.get(name)
        assert r.loss == "ce" and r.output == "logits" and not r.flatten_input and r.epochs <= 5, name
        assert r.batch_size == 128 and r.schedule == "onecycle", name
    assert models.get("lstm").grad_clip == 1.0 and models.get("vit").optimizer == "adamw"
    assert all(r.grad_clip == 0 for r in models.RECIPES.values() if r.name != "lstm")


def test_lstm_reads_an_image_row_by_row() -> None:
    net = lstm.build_lstm((1, 28, 28), 10)
    assert (net.lstm.input_size, net.lstm.hidden_size, net.lstm.batch_first) == (28, 128, True)
    assert net.lstm.bias_ih_l0.array[128:256].tolist() == [1.0] * 128  # forget gate starts open
    x, _ = _batch((1, 28, 28), 2)
    rows = net.sequence(mg.from_numpy(x))
    assert rows.shape == (2, 28, 28) and np.array_equal(rows.array, x[:, 0])  # step t is row t
    flat = net.sequence(mg.from_numpy(x.reshape(2, -1)))  # flat rows are read the same way
    assert np.array_equal(flat.array, rows.array)
    assert lstm.build_lstm((1, 8, 8), 10).lstm.input_size == 8  # digits: 8 steps of 8 features
    three = lstm.build_lstm((3, 4, 5), 10)  # channels side by side in each row
    assert three.lstm.input_size == 15 and three.sequence(mg.zeros(2, 3, 4, 5)).shape == (2, 4, 15)


def test_vit_cuts_28x28_into_sixteen_7x7_patches_and_8x8_into_four_4x4() -> None:
    assert vit.patch_side((1, 28, 28)) == 7 and vit.patch_side((784,)) == 7 and vit.patch_side((1, 8, 8)) == 4
    net = vit.build_vit((1, 28, 28), 10)
    assert net.embed.in_features == 49 and tuple(net.pos_embedding.shape) == (1, 16, 64)
    assert len(net.encoder.layers) == 4 and net.encoder.layers[0].self_attn.num_heads == 4
    x, _ = _batch((1, 28, 28), 2)
    patches = net.patches(mg.from_numpy(x)).array
    assert patches.shape == (2, 16, 49)
    assert np.array_equal(patches[1, 5].reshape(7, 7), x[1, 0, 7:14, 7:14])  # token 5: patch row 1, column 1
    small = vit.build_vit((1, 8, 8), 10)
    assert small.embed.in_features == 16 and tuple(small.pos_embedding.shape) == (1, 4, 64)


@pytest.mark.parametrize("shape", [(1, 10, 10), (1, 28, 30), (1, 9, 9)])
def test_vit_refuses_an_image_no_patch_side_divides(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=rf"vit: an image of {shape[1]}×{shape[2]} .*patches of side 7 or 4"):
        vit.build_vit(shape, 10)


@pytest.mark.parametrize("name", SEQUENCE_RECIPES)
def test_one_training_step_lowers_the_loss(name: str) -> None:
    mg.manual_seed(0)
    recipe = models.get(name)
    net = recipe.build((1, 28, 28), 10)
    x, y = _batch((1, 28, 28))
    X, Y = mg.from_numpy(x), mg.from_numpy(y)
    opt = mg.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = mg.nn.CrossEntropyLoss()
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = loss_fn(net(X), Y)
        loss.backward()
        assert all(p.grad is not None and np.isfinite(np.asarray(p.grad)).all() for p in net.parameters())
        opt.step()
        losses.append(float(loss.item()))
    assert float(loss_fn(net(X), Y).item()) < losses[0]


@pytest.mark.parametrize("name", SEQUENCE_RECIPES)
def test_state_dict_round_trip_gives_the_same_outputs(name: str) -> None:
    recipe = models.get(name)
    mg.manual_seed(0)
    a = recipe.build((1, 28, 28), 10)
    mg.manual_seed(1)
    b = recipe.build((1, 28, 28), 10)
    x, _ = _batch((1, 28, 28), 4)
    a.eval()
    b.eval()
    assert not np.allclose(a(mg.from_numpy(x)).array, b(mg.from_numpy(x)).array)
    state = {k: mg.from_numpy(v.array.copy()) for k, v in a.state_dict().items()}
    b.load_state_dict(state)
    np.testing.assert_array_equal(a(mg.from_numpy(x)).array, b(mg.from_numpy(x)).array)
    if name == "lstm":
        assert {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"} <= set(state)
    else:
        assert "pos_embedding" in state and "encoder.layers.3.self_attn.in_proj_weight" in state


@pytest.mark.parametrize("name", SEQUENCE_RECIPES)
@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_sequence_recipes_take_the_real_data_sets_input(name: str, dataset: str, request: pytest.FixtureRequest
                                                        ) -> None:
    folder = request.getfixturevalue("mnist_dir" if dataset == "mnist" else "fashion_dir")
    from matgrad.data import load_dataset

    X, y, info = load_dataset(dataset, folder, train=False, flatten=False)
    assert tuple(info.input_shape) == (1, 28, 28)
    net = models.get(name).build(info.input_shape, info.num_classes)
    net.eval()
    out = net(mg.from_numpy(X.array[:8]))
    assert out.shape == (8, 10) and np.isfinite(out.array).all()


def test_lstm_records_the_gradient_norm_reaching_each_time_step() -> None:
    mg.manual_seed(0)
    net = lstm.build_lstm((1, 28, 28), 10)
    x, y = _batch((1, 28, 28), 8)
    loss_fn = mg.nn.CrossEntropyLoss()
    loss_fn(net(mg.from_numpy(x)), mg.from_numpy(y)).backward()
    assert net.time_step_grad_norms() is None  # only while --watch asks for it
    net.watch_time_steps = True
    loss_fn(net(mg.from_numpy(x)), mg.from_numpy(y)).backward()
    norms = net.time_step_grad_norms()
    assert len(norms) == 28 and all(g > 0 for g in norms)
    assert norms[0] < norms[-1]  # at initialisation the gradient fades on its way back to the first row
    assert net.time_step_grad_norms() is None  # read once per step
    net.eval()
    with mg.no_grad():
        net(mg.from_numpy(x))  # evaluation records nothing
    assert net.time_step_grad_norms() is None
