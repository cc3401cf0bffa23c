"""Trajectory (validation, read-only arrays, samples, save/load, atomic writes) and plots."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from overlapdyn.errors import OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.trajectory import Outcome, SgdRun, SolverStats, Trajectory
from overlapdyn.plot.axes import save_figure
from overlapdyn.plot.trajectories import (
    plot_learning_curve,
    plot_overlap_heatmap,
    plot_overlaps,
)

T, P, K = 5, 2, 1


def make_model(n_b: int = 1, name: str = "toy") -> Model:
    return Model(Target(k=K, activation="He3"), Student(p=P, activation="He3"),
                 Protocol(eta=0.1, n_b=n_b), name=name)


def make_trajectory(model: Model | None = None, **overrides) -> Trajectory:
    t = np.linspace(0.0, 4.0, T)
    growth = 1 - np.exp(-t)
    M = np.stack([growth, -0.5 * growth], axis=1)[:, :, None]          # (T, 2, 1)
    Q = np.tile(np.eye(P), (T, 1, 1))
    Q[:, 0, 1] = Q[:, 1, 0] = 0.1 * growth
    fields = dict(t=t, M=M, Q=Q, a=np.ones((T, P)), risk=np.exp(-t) + 0.01,
                  model=model or make_model())
    fields.update(overrides)
    return Trajectory(**fields)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(("name", "bad", "expected"), [
    ("M", np.zeros((T, P, K + 1)), (T, P, K)),
    ("Q", np.zeros((T, P, P + 1)), (T, P, P)),
    ("a", np.zeros((T, P + 1)), (T, P)),
    ("risk", np.zeros(T + 1), (T,)),
    ("M", np.zeros((T - 1, P, K)), (T, P, K)),
])
def test_shape_errors_name_the_array_and_its_expected_shape(name, bad, expected):
    with pytest.raises(OverlapdynError, match=rf"Trajectory\.{name} must have shape") as info:
        make_trajectory(**{name: bad})
    assert str(expected) in str(info.value)


def test_t_must_be_one_dimensional_and_nonempty():
    with pytest.raises(OverlapdynError, match=r"Trajectory\.t"):
        make_trajectory(t=np.zeros((T, 1)))
    with pytest.raises(OverlapdynError, match=r"Trajectory\.t"):
        Trajectory(t=[], M=np.zeros((0, P, K)), Q=np.zeros((0, P, P)), a=np.zeros((0, P)),
                   risk=[], model=make_model())


def test_status_and_model_are_checked():
    with pytest.raises(OverlapdynError, match="status"):
        make_trajectory(outcome=2)
    with pytest.raises(OverlapdynError, match="Model"):
        make_trajectory(model={"target": {}})


def test_arrays_are_read_only_copies():
    M = np.zeros((T, P, K))
    tr = make_trajectory(M=M)
    M[0, 0, 0] = 99.0
    assert tr.M[0, 0, 0] == 0.0
    for name in ("t", "M", "Q", "a", "risk"):
        array = getattr(tr, name)
        assert array.dtype == float
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1.0


def test_frozen():
    tr = make_trajectory()
    with pytest.raises(AttributeError):
        tr.status = 1  # type: ignore[misc]


# ---------------------------------------------------------------- accessors


@pytest.mark.parametrize("n_b", [1, 7])
def test_samples_is_t_times_d_times_batch(n_b):
    tr = make_trajectory(model=make_model(n_b=n_b))
    np.testing.assert_allclose(tr.samples(100), np.linspace(0, 4, T) * 100 * n_b)
    with pytest.raises(OverlapdynError, match="d"):
        tr.samples(0)
    with pytest.raises(OverlapdynError, match="d"):
        tr.samples(10.5)


def test_final_and_at():
    tr = make_trajectory()
    final = tr.final
    assert final.t == 4.0 and final.risk == tr.risk[-1]
    np.testing.assert_array_equal(final.M, tr.M[-1])
    np.testing.assert_array_equal(final.Q, tr.Q[-1])
    np.testing.assert_array_equal(final.a, tr.a[-1])
    state = tr.at(1.4)  # grid 0, 1, 2, 3, 4 → nearest is 1
    assert state.t == 1.0
    np.testing.assert_array_equal(state.M, tr.M[1])
    assert tr.at(-5).t == 0.0 and tr.at(1e9).t == 4.0
    assert "T=5" in repr(tr)


# ---------------------------------------------------------------- save / load


def test_round_trip(tmp_path):
    metadata = {"solver": {"method": "LSODA", "rtol": 1e-8}, "wall_time": 0.25,
                "versions": {"numpy": np.__version__}, "events": [[1.5, "plateau"]],
                "nfev": np.int64(42), "grid": np.arange(3.0)}
    tr = make_trajectory(outcome=Outcome.EVENT, message="plateau event", metadata=metadata)
    path = tr.save(tmp_path / "run.npz")
    back = Trajectory.load(path)
    for name in ("t", "M", "Q", "a", "risk"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tr, name))
    assert back.model == tr.model
    assert back.model.name == "toy"
    assert back.model.fingerprint() == tr.model.fingerprint()
    assert back.status == 1 and back.message == "plateau event"
    assert back.metadata == {**metadata, "nfev": 42, "grid": [0.0, 1.0, 2.0]}
    assert isinstance(back.metadata["nfev"], int)


def test_round_trip_keeps_nan_and_overwrites(tmp_path):
    path = tmp_path / "blowup.npz"
    make_trajectory().save(path)
    risk = np.array([1.0, 2.0, 1e10, np.inf, np.nan])
    make_trajectory(risk=risk, outcome=Outcome.FAILED, message="blow-up").save(path)
    back = Trajectory.load(path)
    np.testing.assert_array_equal(back.risk, risk)
    assert back.status == -1


def test_file_holds_readable_json_header(tmp_path):
    path = make_trajectory().save(tmp_path / "run.npz")
    with np.load(path) as data:
        header = json.loads(str(data["header"]))
    assert header["model"]["student"]["activation"] == "He3"
    assert header["format"] == "overlapdyn.Trajectory"


def test_save_leaves_no_temporary_files(tmp_path):
    make_trajectory().save(tmp_path / "run.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]


def test_unserialisable_metadata_writes_nothing(tmp_path):
    tr = make_trajectory(metadata={"solver": {"callback": object()}})
    with pytest.raises(OverlapdynError, match=r"metadata\['solver'\]\['callback'\]"):
        tr.save(tmp_path / "run.npz")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = make_trajectory(message="old").save(tmp_path / "run.npz")

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez_compressed", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        make_trajectory(message="new").save(path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]
    assert Trajectory.load(path).message == "old"


def test_non_string_metadata_keys_are_rejected(tmp_path):
    with pytest.raises(OverlapdynError, match="non-string keys"):
        make_trajectory(metadata={1: "x"}).save(tmp_path / "run.npz")


def _version_1_file(path, status: int, metadata: dict):
    """A trajectory file as overlapdyn wrote it before the typed fields (format version 1)."""
    tr = make_trajectory()
    header = json.dumps({"format": "overlapdyn.Trajectory", "version": 1,
                         "model": tr.model.to_dict(), "status": status, "message": "old",
                         "metadata": metadata})
    with path.open("wb") as fh:
        np.savez_compressed(fh, t=tr.t, M=tr.M, Q=tr.Q, a=tr.a, risk=tr.risk,
                            header=np.array(header))
    return path


def test_version_1_files_load_into_the_fields(tmp_path):
    ode = {"solver": {"method": "LSODA", "rtol": 1e-8, "atol": 1e-10, "nfev": 42},
           "events": {"risk<0.1": [2.5]}, "kernels": "exact", "truncation_errors": {},
           "wall_time_s": 0.5, "versions": {"numpy": "2.0"}}
    back = Trajectory.load(_version_1_file(tmp_path / "ode.npz", 1, ode))
    assert back.outcome is Outcome.EVENT and back.status == 1 and back.message == "old"
    assert back.events == {"risk<0.1": (2.5,)}
    assert back.solver == SolverStats("LSODA", 1e-8, 1e-10, 42) and back.kernels == "exact"
    assert back.wall_time_s == 0.5 and back.versions == {"numpy": "2.0"}
    assert back.metadata == {} and back.sgd is None and back.test_risk is None
    np.testing.assert_array_equal(back.M, make_trajectory().M)
    # a run of the validation store: the simulator's entries and the failure step
    stored = {"d": 100, "seed": 3, "test_risk": [0.5] * T, "n_test": 50, "failed_at": 7}
    back = Trajectory.load(_version_1_file(tmp_path / "sim.npz", -1, stored))
    assert back.outcome is Outcome.FAILED and back.sgd == SgdRun(100, 3, 50, 7)
    np.testing.assert_array_equal(back.test_risk, [0.5] * T)
    assert back.metadata == {}
    # entries overlapdyn did not write stay notes
    custom = {"solver": {"method": "LSODA"}, "note": 1}
    back = Trajectory.load(_version_1_file(tmp_path / "custom.npz", 0, custom))
    assert back.solver is None and back.metadata == custom


def test_typed_fields_round_trip_and_are_checked(tmp_path):
    tr = make_trajectory(events={"risk<0.1": [1.5, 2.5]}, test_risk=np.full(T, 0.25),
                         sgd=SgdRun(40, 1), solver=SolverStats("DOP853", 1e-9, 1e-12, 7))
    assert tr.events == {"risk<0.1": (1.5, 2.5)}
    with pytest.raises(ValueError, match="read-only"):
        tr.test_risk[0] = 1.0
    back = Trajectory.load(tr.save(tmp_path / "run.npz"))
    assert back.events == tr.events and back.sgd == tr.sgd and back.solver == tr.solver
    np.testing.assert_array_equal(back.test_risk, tr.test_risk)
    with pytest.raises(OverlapdynError, match=r"Trajectory\.test_risk must have shape"):
        make_trajectory(test_risk=np.zeros(T + 1))
    with pytest.raises(OverlapdynError, match="SolverStats"):
        make_trajectory(solver={"method": "LSODA"})
    assert "a terminal event stopped the run" in make_trajectory(
        outcome=Outcome.EVENT, events={"risk<0.1": [1.5]}).describe()


def _bogus_files(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not a trajectory")
    npy = tmp_path / "array.npz"
    with npy.open("wb") as fh:
        np.save(fh, np.arange(3))
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    wrong_shape = tmp_path / "wrong_shape.npz"
    make_trajectory().save(wrong_shape)
    with np.load(wrong_shape) as data:
        arrays = dict(data)
    arrays["M"] = arrays["M"][:, :, :0]
    with wrong_shape.open("wb") as fh:
        np.savez(fh, **arrays)
    foreign = tmp_path / "foreign.npz"
    arrays = dict(arrays, M=np.zeros((T, P, K)), header=np.array(json.dumps({"format": "x"})))
    with foreign.open("wb") as fh:
        np.savez(fh, **arrays)
    truncated = tmp_path / "truncated.npz"
    make_trajectory().save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:100])
    return [text, npy, other, wrong_shape, foreign, truncated]


def test_loading_bogus_files_raises_with_the_path(tmp_path):
    for path in _bogus_files(tmp_path):
        with pytest.raises(OverlapdynError, match="is not a saved overlapdyn Trajectory") as info:
            Trajectory.load(path)
        assert str(path) in str(info.value)


def test_loading_a_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        Trajectory.load(tmp_path / "missing.npz")


# ---------------------------------------------------------------- plots


def test_learning_curve_one_and_many(tmp_path):
    tr = make_trajectory()
    fig = plot_learning_curve(tr)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 1
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), tr.risk)

    other = make_trajectory(model=make_model(n_b=4, name="batch4"))
    fig = plot_learning_curve([tr, other], d=10, labels=["a", "b"], logx=False, logy=False)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2
    assert ax.get_xscale() == "linear"
    np.testing.assert_allclose(ax.get_lines()[1].get_xdata(), tr.t * 10 * 4)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert "samples" in ax.get_xlabel()

    with pytest.raises(OverlapdynError, match="labels"):
        plot_learning_curve([tr, other], labels=["only one"])


def test_learning_curve_stops_at_the_round_off_floor_on_a_log_axis():
    """A learned run's risk falls to round-off (1e-12 … 1e-15, even negative): on log-y the
    curve stops where R first falls below 1e-10 of its largest value; linear keeps it all."""
    risk = np.array([0.6, 0.02, 1e-6, 3e-11, 2e-13, -1e-15, 4e-12])
    tr = make_trajectory()
    tr = dataclasses.replace(tr, t=np.linspace(0, 6, 7), risk=risk, M=np.repeat(tr.M[:1], 7, 0),
                             Q=np.repeat(tr.Q[:1], 7, 0), a=np.repeat(tr.a[:1], 7, 0))
    drawn = plot_learning_curve(tr).axes[0].get_lines()[0].get_ydata()
    np.testing.assert_array_equal(drawn[:3], risk[:3])
    assert np.isnan(drawn[3:]).all()
    linear = plot_learning_curve(tr, logy=False).axes[0].get_lines()[0].get_ydata()
    np.testing.assert_array_equal(linear, risk)
    png = plot_learning_curve(tr)._repr_png_()     # what Jupyter shows for a cell's figure
    assert png.startswith(b"\x89PNG")


def test_learning_curve_draws_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_learning_curve(make_trajectory(), ax=ax) is fig
    assert len(ax.get_lines()) == 1


def test_overlaps_plot_groups_m_by_direction_and_shows_the_norms():
    tr = make_trajectory()
    fig = plot_overlaps(tr)
    left, right = fig.axes[:2]
    lines = left.get_lines()
    assert len(lines) == P * K                      # M_11, M_21: one colour, direction 1
    assert len({line.get_color() for line in lines}) == K
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["$z_{1}$"]
    np.testing.assert_array_equal(lines[1].get_ydata(), tr.M[:, 1, 0])
    assert len(right.get_lines()) == P + P * (P - 1) // 2        # Q_11, Q_22, Q_12
    np.testing.assert_array_equal(right.get_lines()[0].get_ydata(), tr.Q[:, 0, 0])
    np.testing.assert_array_equal(right.get_lines()[1].get_ydata(), tr.Q[:, 0, 1])
    assert [line.get_linestyle() for line in right.get_lines()] == ["-", "--", "-"]
    assert "steps" in left.get_xlabel() and "steps" in right.get_xlabel()
    with pytest.raises(OverlapdynError, match="give two axes, got 1"):
        plot_overlaps(tr, axes=[left])


def test_heatmap_shows_m_at_the_requested_time():
    tr = make_trajectory()
    fig = plot_overlap_heatmap(tr)
    ax = fig.axes[0]
    (image,) = [a for a in ax.get_images() if isinstance(a, AxesImage)]
    np.testing.assert_array_equal(image.get_array(), tr.M[-1])
    assert ax.get_xlabel() == "latent direction $r$" and ax.get_ylabel() == "student $j$"
    assert len(fig.axes) == 2  # the colorbar
    fig = plot_overlap_heatmap(tr, time=1.1)
    np.testing.assert_array_equal(fig.axes[0].get_images()[0].get_array(), tr.M[1])


def test_save_figure_writes_png(tmp_path):
    path = tmp_path / "curve.png"
    save_figure(plot_learning_curve(make_trajectory()), path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 1000
    save_figure(plot_overlap_heatmap(make_trajectory()), tmp_path / "new" / "heat.png")
    assert (tmp_path / "new" / "heat.png").stat().st_size > 1000     # the folder is made


def test_plots_do_not_touch_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_learning_curve(make_trajectory())
    plot_overlaps(make_trajectory())
    plot_overlap_heatmap(make_trajectory())
    assert plt.get_fignums() == before
