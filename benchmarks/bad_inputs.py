"""A sweep of bad inputs over the public API and the command line: how each one is refused.

Every public entry point (the classes of specbook.__all__ and of the public modules' __all__,
their methods, the functions, and ``python -m specbook run|check|report|assignments``) has ONE
small valid base call in the table ``ENTRIES`` below, and a kind for each of its arguments. The
table ``KINDS`` gives each kind its families of bad values (wrong type, a bool for an int or a
real, NaN, inf, negative, zero, huge sizes, empty / wrong-shaped / complex / object / str /
NaN-holding arrays, bad seeds, bad devices, bad paths); every value in a family is invalid by
construction. A case substitutes one bad value for one argument of the base call (``EXTRA``
cases change a few arguments at once, e.g. a T that is not a multiple of L).

Each case runs in a child forked from a process that has imported the package (so every case
starts from the same clean state), with BLAS and torch on one thread, an address-space limit of
4 GiB above the child's start (``resource.RLIMIT_AS``) and a wall-clock timeout. Its outcome:

- ``clear``: a ValueError or TypeError (or an OSError, or the models' RuntimeError "not fitted
  yet") raised by a ``raise`` statement in a file under specbook/ (the innermost traceback
  frame) -- the package's own check;
- ``deep``: any other exception: raised inside a dependency (numpy, torch, networkx, scipy,
  sklearn...), of another type (IndexError, KeyError, AttributeError, ZeroDivisionError, a
  torch RuntimeError...), or by a builtin operation in our code (``float('abc')`` inside
  ``np.asarray``, ``'<'`` between an int and a str): the innermost frame is ours but the message
  is not (the report counts these apart, as "builtin in our code");
- ``garbage``: returned normally although the input is invalid (``valid`` instead, and not
  counted, for the few families marked valid by design for an argument, e.g. an empty batch
  given to a row-wise map);
- ``hang``: still running at the timeout;
- ``oom``: ran into the memory limit (a MemoryError or an allocator failure, or killed by a signal).

A command-line case runs ``python -m specbook ...`` in a fresh temporary folder: exit status 2
and no traceback is ``clear``, a traceback is ``deep``, any other exit status ``garbage`` (0
accepts the bad input, 1 reports a failed chapter or moved number instead of a usage error),
and a command still running at the timeout (it accepted the input and started work) a ``hang``.

Before the cases, every entry's base call is run; an entry whose base call fails is reported and
its cases are skipped (the package is under change; a failing base call would make every case
look ``clear``).

    python benchmarks/bad_inputs.py                        # the whole sweep (about 6 minutes on 2 shared cores)
    python benchmarks/bad_inputs.py --only ColliderWorld   # the entries whose name contains a string
    python benchmarks/bad_inputs.py --list                 # the cases, without running them

The report is printed and written to ``benchmarks/results/bad_inputs.md`` (``--out``), and every
case with its outcome to ``bad_inputs.json`` beside it, for diffing two sweeps. With ``--only``
the default output is ``bad_inputs_only.md`` so that the full baseline is kept.
"""
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                  "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from functools import cached_property  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

import specbook  # noqa: E402
from specbook import ci, metrics, plotting, stats  # noqa: E402
from specbook.harness import profiles, recording  # noqa: E402
from specbook.specialists import encoders, gan, identifiability, vae  # noqa: E402
from specbook.tasks import baselines, discovery, multitest, theory  # noqa: E402
from specbook.worlds import cats, collider, latent, video  # noqa: E402

torch.set_num_threads(1)

PACKAGE_DIR = str(Path(specbook.__file__).resolve().parent) + os.sep
# The package's sources as imported: the check "was it a raise statement of ours" reads them, and
# the files may be edited while the sweep runs (the traceback's line numbers are the imported ones).
SOURCES = {str(path): path.read_text().splitlines() for path in Path(PACKAGE_DIR).rglob("*.py")}
OUTCOMES = ("clear", "deep", "garbage", "hang", "oom")
MEMORY_HEADROOM = 4 * 2 ** 30          # address space a case may add to what the child starts with
NOT_APPLICABLE = object()              # a family that does not apply to this base value
                                       # (e.g. no columns of a 1-D array)


# --------------------------------------------------------------------------------------------
# Families of bad values, per kind of argument. A family maps the base call's valid value ``v``
# (None when the base call leaves the argument at its default) to a bad value.
# --------------------------------------------------------------------------------------------

def const(label, value):
    return label, lambda v: value


def _array(v):
    return np.asarray(v.detach().numpy() if isinstance(v, torch.Tensor) else v)


def _poke(value):
    def family(v):
        a = _array(v).astype(float)
        a.flat[0] = value
        return a
    return family


def _drop_axis(v):
    a = _array(v)
    return a[..., 0] if a.ndim >= 2 else np.asarray(a.flat[0])


def _zero_columns(v):
    a = _array(v)
    return a[..., :0] if a.ndim >= 2 else NOT_APPLICABLE


WRONG_TYPES = [const("str", "3"), const("None", None), const("list", [3]), const("dict", {})]
ARRAY = [
    const("None", None), const("str", "abc"), const("scalar", 3.0), const("empty list", []),
    ("no rows", lambda v: _array(v)[:0]),
    ("extra axis", lambda v: _array(v)[..., None]),
    ("missing axis", _drop_axis),
    ("no columns", _zero_columns),
    ("complex", lambda v: _array(v) + 0.5j),
    ("object dtype", lambda v: _array(v).astype(object)),
    ("str dtype", lambda v: _array(v).astype(str)),
    ("NaN entry", _poke(np.nan)),
    ("inf entry", _poke(np.inf)),
]
KINDS = {
    # integers that size an allocation (n, T, widths...): huge must be refused up front
    "size": WRONG_TYPES + [const("bool", True), const("float", 2.5), const("NaN", float("nan")),
                           const("inf", float("inf")), const("negative", -1), const("zero", 0),
                           const("huge", 10 ** 9)],
    # integers that count iterations (epochs, permutations): huge is merely slow, not tried
    "count": WRONG_TYPES + [const("bool", True), const("float", 2.5), const("NaN", float("nan")),
                            const("inf", float("inf")), const("negative", -1), const("zero", 0)],
    "count0": WRONG_TYPES + [const("bool", True), const("float", 2.5), const("NaN", float("nan")),
                             const("inf", float("inf")), const("negative", -1)],
    "positive": WRONG_TYPES + [const("bool", True), const("NaN", float("nan")), const("inf", float("inf")),
                               const("negative", -1.0), const("zero", 0.0), const("complex", 1j)],
    "nonneg": WRONG_TYPES + [const("bool", True), const("NaN", float("nan")), const("inf", float("inf")),
                             const("negative", -1.0), const("complex", 1j)],
    "prob": WRONG_TYPES + [const("bool", True), const("NaN", float("nan")), const("inf", float("inf")),
                           const("negative", -0.5), const("above 1", 1.5), const("complex", 0.5j)],
    "real": WRONG_TYPES + [const("bool", True), const("NaN", float("nan")), const("inf", float("inf")),
                           const("complex", 1j)],
    "seed": [const("negative", -1), const("float", 1.5), const("str", "0"), const("bool", True),
             const("2**40", 2 ** 40), const("None", None), const("NaN", float("nan")), const("list", [0])],
    "choice": [const("unknown", "nonsense"), const("None", None), const("int", 3), const("empty", ""),
               const("list", ["nonsense"]), const("bool", True)],
    "flag": [const("str", "no"), const("int", 2), const("None", None), const("list", [True])],
    "device": [const("None", None), const("gpu", "gpu"), const("cuda", "cuda"), const("int", 0),
               const("empty", "")],
    "index": [const("str", "0"), const("None", None), const("bool", True), const("float", 1.5),
              const("NaN", float("nan")), const("very negative", -10 ** 6), const("huge", 10 ** 9),
              const("list", [0])],
    "node": [const("unknown", "zz"), const("int", 0), const("None", None), const("list", ["s1"]),
             const("empty", "")],
    "nodes": [const("unknown", ["zz"]), const("ints", [0]), const("int", 3), const("list of None", [None])],
    "text": [const("None", None), const("int", 3), const("bytes", b"x"), const("empty", ""),
             const("list", ["x"])],
    "callable": [const("None", None), const("str", "f"), const("int", 3)],
    "array": ARRAY,
    # pixel arrays in [0, 1] (images, frames): also 0-255 pixels and negative ones
    "pixels": ARRAY + [("0-255", lambda v: _array(v) * 255.0), ("negative", lambda v: _array(v) - 2.0)],
    # a torch tensor argument (task maps): a numpy array is the wrong type
    "tensor": [("numpy", lambda v: _array(v)), const("None", None), const("str", "abc"),
               ("no rows", lambda v: v[:0]), ("one column", lambda v: v[:, :1]),
               ("NaN entry", lambda v: torch.as_tensor(_poke(np.nan)(v), dtype=v.dtype))],
    "path": [("folder", lambda v: TMP), ("missing", lambda v: os.path.join(TMP, "missing", "file.pt")),
             ("corrupt", lambda v: _corrupt_file("corrupt.bin"))],
    "range": [const("reversed", (1.5, 0.5)), const("NaN", (float("nan"), 1.0)), const("inf", (0.5, float("inf"))),
              const("scalar", 3), const("str", "ab"), const("one number", (1.0,)), const("None", None),
              const("three numbers", (0.5, 1.0, 1.5))],
    "steps": [const("float", [2.7]), const("str", "35"), const("int", 5), const("zero", [0]),
              const("huge", [10 ** 9]), const("str list", ["a"]), const("NaN", [float("nan")]),
              const("bool", [True])],
    "graph": [("undirected", lambda v: nx.Graph(v)), const("None", None), const("str", "g"), const("dict", {}),
              const("empty", nx.DiGraph())],
    "task names": [const("empty", ()), const("unknown", ("nonsense",)), const("str", "hat"), const("None", None),
                   const("ints", (1,)), const("duplicated", ("hat", "hat"))],
    "levels": [const("empty", ()), const("zero", (0,)), const("float", (1.5,)), const("str", "2"),
               const("None", None), const("bool", (True,)), const("int", 3)],
}
#: Modifiers after a kind, comma separated: ``paired`` adds a family with fewer rows than the
#: other arrays of the call; ``optional`` drops the None family (None is valid there); ``-LABEL``
#: drops the family LABEL (meaningless for that argument, e.g. ``-extra axis`` where (n,) and (n, 1)
#: both are valid); ``+LABEL`` keeps it but marks it valid by design (an empty batch for a row-wise
#: map): returning normally is then ``valid`` (not counted), and a crash is still ``deep``.
PAIRED = ("fewer rows", lambda v: _array(v)[: max(1, len(_array(v)) // 2)])

TMP = None  # the child's temporary folder, made per case


def _corrupt_file(name):
    path = os.path.join(TMP, name)
    with open(path, "wb") as handle:
        handle.write(b"\x00\x01 not what you think {")
    return path


def families(kind):
    base, *modifiers = [part.strip() for part in kind.split(",")]
    chosen = list(KINDS[base])
    if "paired" in modifiers:
        chosen.append(PAIRED)
    if "optional" in modifiers:
        chosen = [family for family in chosen if family[0] != "None"]
    dropped = {m[1:] for m in modifiers if m.startswith("-")}
    return [family for family in chosen if family[0] not in dropped]


def valid_by_design(kind):
    return {m.strip()[1:] for m in kind.split(",")[1:] if m.strip().startswith("+")}


# --------------------------------------------------------------------------------------------
# Fixtures: small valid data and fitted models, built lazily in the child that needs them.
# --------------------------------------------------------------------------------------------

class Fixtures:
    @cached_property
    def world(self):
        return collider.ColliderWorld(6, 2, 2, seed=0)

    @cached_property
    def sample(self):
        return self.world.sample(50, seed=0)

    @cached_property
    def xyz(self):
        return np.random.default_rng(0).normal(size=(50, 3))

    @cached_property
    def latent_world(self):
        return latent.TaskLatentWorld(n_latents=4, n_tasks=2, obs_dim=6, seed=0)

    @cached_property
    def latent_sample(self):
        return self.latent_world.sample(50, seed=0)

    @cached_property
    def video_world(self):
        return video.AgentVideoWorld(T=4, M=1, L=2, n_agents=1, size=16, seed=0)

    @cached_property
    def video_sample(self):
        return self.video_world.sample(4, seed=0)

    @cached_property
    def renderer(self):
        return cats.CatRenderer(size=16)

    @cached_property
    def cats(self):
        return self.renderer.sample(8, seed=0)

    @cached_property
    def vae(self):
        return vae.SpecialistVAE(**VAE_BASE).fit(self.latent_sample.obs, self.latent_sample.tasks)

    @cached_property
    def gan(self):
        return gan.SpecialistGAN(**GAN_BASE).fit(self.cats.images, self.cats.labels())

    @cached_property
    def frame_vae(self):
        return encoders.FrameVAE(**FRAME_VAE_BASE).fit(self.video_sample.frames)

    @cached_property
    def z_tensor(self):
        return torch.as_tensor(self.vae.transform(self.latent_sample.obs), dtype=torch.float32)


VAE_BASE = dict(n_latents=4, n_tasks=2, hidden=8, task_hidden=4, epochs=1, batch_size=16, progress=False, seed=0)
GAN_BASE = dict(n_latents=4, width=4, steps=1, batch_size=4, l1_warmup_steps=0, l1_ramp_steps=1, log_every=1,
                progress=False, seed=0)
FRAME_VAE_BASE = dict(n_latents=2, n_static=2, width=4, epochs=1, batch_size=2, progress=False, seed=0)


def warm_up():
    """Fit each model once in the parent, so that torch's lazy imports and set-up (seconds the
    first time in a process) are done before the children are forked, not once per case."""
    fixtures = Fixtures()
    fixtures.z_tensor, fixtures.gan, fixtures.frame_vae, fixtures.cats, fixtures.video_sample  # noqa: B018
    ci.NeuralCMI(hidden=4, epochs=1, n_permutations=5)(fixtures.xyz[:, 0], fixtures.xyz[:, 1], fixtures.xyz[:, 2:])
    metrics.jacobian_support(fixtures.vae.task_map, fixtures.z_tensor)
    baselines.group_lasso_tasks(fixtures.sample.states, fixtures.sample.tasks, n_lambdas=2, tol=1e-3)  # import time
    import matplotlib.pyplot as plt
    plt.close(plotting.draw_world(fixtures.world).figure)


def _user_test(pvalue):
    def test(x, y, z=None):
        return ci.CITestResult(statistic=0.0, pvalue=pvalue, method="user", n=len(x))
    return test


# --------------------------------------------------------------------------------------------
# The entry points: a base call (keyword arguments from the fixtures), the kind of each argument
# swept, and EXTRA cases that change several arguments at once or need a particular value.
# --------------------------------------------------------------------------------------------

@dataclass
class Entry:
    name: str
    call: object                 # call(f, **kwargs) -> result
    base: object                 # base(f) -> dict of keyword arguments of the valid base call
    args: dict                   # argument -> kind (see KINDS and the modifiers)
    extra: list = field(default_factory=list)   # (label, f -> dict of overrides)

    @property
    def module(self):
        return self.name.split(".")[0]


def _none(f):
    return {}


def _world_kw(f):
    return dict(T=6, M=2, L=2, seed=0)


def _states_tasks(f):
    return dict(states=f.sample.states, tasks=f.sample.tasks, L=2)


WORLD_ARGS = dict(T="size", M="size", L="size", state_dim="size", p_disconnect="prob", mechanism="choice",
                  disconnected="steps,optional", task_density="prob", task_noise="positive",
                  action_noise="positive", weight_range="range", task_role="choice", seed="seed")
BASELINE_ARGS = dict(states="array,paired,-missing axis,-no columns", tasks="array,paired", L="size",
                     seed="seed")

ENTRIES = [
    # collider ------------------------------------------------------------------------------
    Entry("collider.ColliderWorld", lambda f, **kw: collider.ColliderWorld(**kw), _world_kw, WORLD_ARGS,
          extra=[("T not a multiple of L", lambda f: dict(T=7)), ("T=4000 (cost ~T^3)", lambda f: dict(T=4000)),
                 ("M=10**7", lambda f: dict(M=10 ** 7)), ("assignment of the wrong shape",
                                                          lambda f: dict(assignment=np.ones((2, 2), bool))),
                 ("assignment of 2s", lambda f: dict(assignment=np.full((3, 2), 2))),
                 ("assignment None-filled", lambda f: dict(assignment=np.full((3, 2), None))),
                 ("coordinate_groups too short", lambda f: dict(state_dim=2, coordinate_groups=[0])),
                 ("coordinate_groups str", lambda f: dict(state_dim=2, coordinate_groups="ab")),
                 ("task_groups without coordinate_groups", lambda f: dict(task_groups=[0, 0]))]),
    Entry("collider.ColliderWorld.sample", lambda f, **kw: f.world.sample(**kw), lambda f: dict(n=50, seed=0),
          dict(n="size", seed="seed")),
    Entry("collider.ColliderWorld.covariance", lambda f, **kw: f.world.covariance(**kw),
          lambda f: dict(nodes=["s1", "a1"]), dict(nodes="nodes")),
    Entry("collider.ColliderWorld.partial_correlation", lambda f, **kw: f.world.partial_correlation(**kw),
          lambda f: dict(x="s1", y="s3", given=("s2",)), dict(x="node", y="node", given="nodes")),
    Entry("collider.ColliderWorld.segment_of", lambda f, **kw: f.world.segment_of(**kw), lambda f: dict(t=3),
          dict(t="index")),
    Entry("collider.ColliderWorld.segment_steps", lambda f, **kw: f.world.segment_steps(**kw), lambda f: dict(k=2),
          dict(k="index")),
    Entry("collider.ColliderWorld.structural_weights", lambda f, **kw: f.world.structural_weights(**kw),
          lambda f: dict(child="s2", parent="s1"), dict(child="node", parent="node")),
    # latent --------------------------------------------------------------------------------
    Entry("latent.TaskLatentWorld", lambda f, **kw: latent.TaskLatentWorld(**kw),
          lambda f: dict(n_latents=4, n_tasks=2, obs_dim=6, seed=0),
          dict(n_latents="size", n_tasks="size", obs_dim="size", mixing="choice", task_map="choice",
               task_dim="size", obs_noise="nonneg", task_noise="nonneg", mixing_layers="size",
               leaky_slope="prob", support_size="size", activation="choice", disjoint_supports="flag", seed="seed"),
          extra=[("n_latents=obs_dim=4000", lambda f: dict(n_latents=4000, obs_dim=4000)),
                 ("supports out of range", lambda f: dict(supports=[[0, 9], [1, 2]])),
                 ("supports of the wrong count", lambda f: dict(supports=[[0, 1]])),
                 ("supports str", lambda f: dict(supports="ab")),
                 ("supports empty", lambda f: dict(supports=[[], []]))]),
    Entry("latent.random_task_latent_worlds", lambda f, **kw: list(latent.random_task_latent_worlds(**kw)),
          lambda f: dict(n_worlds=2, seed=0), dict(n_worlds="count,+zero", tasks="choice", seed="seed")),
    Entry("latent.TaskLatentWorld.sample", lambda f, **kw: f.latent_world.sample(**kw), lambda f: dict(n=50, seed=0),
          dict(n="size", seed="seed")),
    Entry("latent.TaskLatentWorld.mix", lambda f, **kw: f.latent_world.mix(**kw),
          lambda f: dict(latents=f.latent_sample.latents), dict(latents="array,+no rows")),
    Entry("latent.TaskLatentWorld.task_function", lambda f, **kw: f.latent_world.task_function(**kw),
          lambda f: dict(latents=f.latent_sample.latents), dict(latents="array,+no rows")),
    Entry("latent.TaskLatentWorld.nonlinearity_check", lambda f, **kw: f.latent_world.nonlinearity_check(**kw),
          lambda f: dict(n=50, seed=0, rtol=1e-6), dict(n="size", seed="seed", rtol="positive")),
    Entry("latent.example_world", lambda f, **kw: latent.example_world(**kw), lambda f: dict(seed=0),
          dict(seed="seed")),
    # video ---------------------------------------------------------------------------------
    Entry("video.AgentVideoWorld", lambda f, **kw: video.AgentVideoWorld(**kw),
          lambda f: dict(T=4, M=1, L=2, n_agents=1, size=16, seed=0),
          dict(T="size", M="size", L="size", n_agents="size", size="size", p_disconnect="prob",
               task_density="prob", task_noise="positive", action_noise="positive", disconnected="steps,optional",
               seed="seed"),
          extra=[("size not a multiple of 8", lambda f: dict(size=20)),
                 ("task_agents out of range", lambda f: dict(task_agents=[5])),
                 ("task_agents str", lambda f: dict(task_agents="a"))]),
    Entry("video.AgentVideoWorld.sample", lambda f, **kw: f.video_world.sample(**kw), lambda f: dict(n=4, seed=0),
          dict(n="size", seed="seed")),
    Entry("video.AgentVideoWorld.render", lambda f, **kw: f.video_world.render(**kw),
          lambda f: dict(states=f.video_sample.states, backgrounds=f.video_sample.backgrounds,
                         agent_colours=f.video_sample.agent_colours),
          dict(states="array,paired", backgrounds="pixels,paired", agent_colours="pixels,paired")),
    Entry("video.AgentVideoWorld.positions", lambda f, **kw: f.video_world.positions(**kw),
          lambda f: dict(states=f.video_sample.states), dict(states="array,-extra axis,+no rows")),
    Entry("video.check_frames", lambda f, **kw: video.check_frames(**kw),
          lambda f: dict(frames=f.video_sample.frames), dict(frames="pixels,+no rows")),
    # cats ----------------------------------------------------------------------------------
    Entry("cats.CatRenderer", lambda f, **kw: cats.CatRenderer(**kw).sample(2), lambda f: dict(size=16),
          dict(size="size", supersample="size")),
    Entry("cats.CatRenderer.sample", lambda f, **kw: f.renderer.sample(**kw), lambda f: dict(n=4, seed=0),
          dict(n="size", seed="seed", p_accessory="prob")),
    Entry("cats.CatRenderer.sample_factors", lambda f, **kw: f.renderer.sample_factors(**kw),
          lambda f: dict(n=4, seed=0), dict(n="size", seed="seed", p_accessory="prob")),
    Entry("cats.CatRenderer.render", lambda f, **kw: f.renderer.render(**kw),
          lambda f: dict(factors=f.cats.factors, batch_size=512), dict(factors="array,+no rows", batch_size="count")),
    Entry("cats.CatRenderer.toggle", lambda f, **kw: f.renderer.toggle(**kw),
          lambda f: dict(factors=f.cats.factors, task="hat"), dict(factors="array,+no rows", task="choice",
                                                                     present="flag,optional")),
    Entry("cats.CatRenderer.counterfactual_pairs", lambda f, **kw: f.renderer.counterfactual_pairs(**kw),
          lambda f: dict(n=2, task="hat", seed=0), dict(n="size", task="choice", seed="seed")),
    # discovery -----------------------------------------------------------------------------
    Entry("discovery.discover_tasks", lambda f, **kw: discovery.discover_tasks(**kw), _states_tasks,
          dict(states="array,paired,-missing axis,-no columns", tasks="array,paired,-None", L="size", test="choice",
               alpha="prob", correction="choice,optional", representative="index,optional", query="choice",
               conditioning="choice"),
          extra=[("states (20, 20000): 10^8 tests", lambda f: dict(states=np.random.default_rng(0).normal(
                      size=(20, 20000)), tasks=np.random.default_rng(1).normal(size=(20, 2)))),
                 ("constant state column", lambda f: dict(states=np.concatenate(
                     [np.ones((50, 1, 1)), f.sample.states[:, 1:]], axis=1))),
                 ("duplicated state column", lambda f: dict(states=np.concatenate(
                     [f.sample.states[:, :1], f.sample.states[:, :1], f.sample.states[:, 2:]], axis=1))),
                 ("T not a multiple of L", lambda f: dict(L=4)),
                 ("user test returns NaN p-value", lambda f: dict(test=_user_test(float("nan")))),
                 ("user test returns negative p-value", lambda f: dict(test=_user_test(-0.5))),
                 ("user test returns p-value above 1", lambda f: dict(test=_user_test(1.5))),
                 ("user test returns None", lambda f: dict(test=lambda x, y, z=None: None)),
                 ("unknown test option", lambda f: dict(nonsense=1)),
                 ("test option of a bad value", lambda f: dict(test="gcm", n_features=-1))]),
    Entry("discovery.oracle_tasks", lambda f, **kw: discovery.oracle_tasks(**kw),
          lambda f: dict(graph=f.world.graph, T=6, M=2, L=2),
          dict(graph="graph", T="size", M="size", L="size", representative="index,optional", query="choice",
               conditioning="choice")),
    Entry("discovery.band_set", lambda f, **kw: discovery.band_set(**kw), lambda f: dict(k=1, v=2, T=6, L=2),
          dict(k="index", v="index", T="size,+huge", L="size", representative="index,optional"),
          extra=[("T not a multiple of L", lambda f: dict(T=7)), ("representative beyond L",
                                                                  lambda f: dict(representative=3)),
                 ("k == v", lambda f: dict(v=1)), ("v beyond the segments", lambda f: dict(v=4))]),
    # ci ------------------------------------------------------------------------------------
    Entry("ci.ci_test", lambda f, **kw: ci.ci_test(**kw),
          lambda f: dict(x=f.xyz[:, 0], y=f.xyz[:, 1], z=f.xyz[:, 2:]),
          dict(x="array,paired,-extra axis,-missing axis", y="array,paired,-extra axis,-missing axis",
               z="array,paired,optional,-missing axis,+empty list,+no columns", method="choice"),
          extra=[("gcm with complex x", lambda f: dict(method="gcm", x=f.xyz[:, 0] + 0.5j)),
                 ("knn-cmi on 3 samples", lambda f: dict(method="knn-cmi", x=f.xyz[:3, 0], y=f.xyz[:3, 1],
                                                         z=f.xyz[:3, 2:])),
                 ("x equal to z", lambda f: dict(x=f.xyz[:, 2])),
                 ("constant x", lambda f: dict(x=np.ones(50))),
                 ("unknown option", lambda f: dict(nonsense=1))]),
    Entry("ci.get_ci_test", lambda f, **kw: ci.get_ci_test(**kw), lambda f: dict(test="gcm"),
          dict(method="choice"), extra=[("unknown option", lambda f: dict(nonsense=1)),
                                        ("option of a bad value", lambda f: dict(seed=-1))]),
    Entry("ci.FisherZ", lambda f, **kw: ci.FisherZ(**kw), _none, dict(scalar_test="choice")),
    Entry("ci.FisherZ.test_from_covariance", lambda f, **kw: ci.FisherZ().test_from_covariance(**kw),
          lambda f: dict(cov=np.cov(f.xyz.T), n=50, x_idx=0, y_idx=1, z_idx=(2,)),
          dict(cov="array,-fewer rows", n="count", x_idx="index,+list", y_idx="index,+list", z_idx="nodes"),
          extra=[("non-symmetric cov", lambda f: dict(cov=np.triu(np.cov(f.xyz.T)))),
                 ("not positive definite", lambda f: dict(cov=-np.eye(3))),
                 ("x_idx == y_idx", lambda f: dict(y_idx=0))]),
    Entry("ci.GCM", lambda f, **kw: ci.GCM(**kw)(f.xyz[:, 0], f.xyz[:, 1], f.xyz[:, 2:]), _none,
          dict(regressor="choice", n_features="size,+huge", seed="seed")),  # capped at n // 16
    Entry("ci.KnnCMI", lambda f, **kw: ci.KnnCMI(**kw)(f.xyz[:, 0], f.xyz[:, 1], f.xyz[:, 2:]),
          lambda f: dict(n_permutations=10),
          dict(k="size", k_perm="size", n_permutations="count", transform="choice", residualize="choice,optional",
               include_self="flag", seed="seed")),
    Entry("ci.NeuralCMI", lambda f, **kw: ci.NeuralCMI(**kw)(f.xyz[:, 0], f.xyz[:, 1], f.xyz[:, 2:]),
          lambda f: dict(hidden=4, epochs=1, n_permutations=5),
          dict(hidden="size", epochs="count", n_negatives="size", k_perm="size", n_permutations="count",
               device="device", seed="seed")),
    # vae -----------------------------------------------------------------------------------
    Entry("vae.SpecialistVAE(...).fit",
          lambda f, **kw: vae.SpecialistVAE(**kw).fit(f.latent_sample.obs, f.latent_sample.tasks),
          lambda f: dict(VAE_BASE),
          dict(n_latents="size", n_tasks="size", sparsity="nonneg", hidden="size", task_hidden="size", beta="nonneg",
               task_weight="nonneg", epochs="count", batch_size="size,+huge", learning_rate="positive",
               mask_threshold="prob", device="device", progress="flag", seed="seed", l1_warmup_epochs="count0")),
    Entry("vae.SpecialistVAE.fit", lambda f, **kw: vae.SpecialistVAE(**VAE_BASE).fit(**kw),
          lambda f: dict(obs=f.latent_sample.obs, tasks=f.latent_sample.tasks),
          # tasks of shape (n, M, 1) are vector tasks of one output each (documented)
          dict(obs="array,paired,-missing axis", tasks="array,paired,-missing axis,+extra axis")),
    Entry("vae.SpecialistVAE.transform",
          lambda f, model=None, **kw: (f.vae if model is None else model).transform(**kw),
          lambda f: dict(obs=f.latent_sample.obs), dict(obs="array,+no rows"),
          extra=[("model not fitted", lambda f: dict(model=vae.SpecialistVAE(**VAE_BASE)))]),
    Entry("vae.SpecialistVAE.predict_tasks", lambda f, **kw: f.vae.predict_tasks(**kw),
          lambda f: dict(obs=f.latent_sample.obs), dict(obs="array,+no rows")),
    Entry("vae.SpecialistVAE.task_map", lambda f, **kw: f.vae.task_map(**kw), lambda f: dict(z=f.z_tensor),
          dict(z="tensor,+no rows")),
    Entry("vae.SpecialistVAE.relevant_latents", lambda f, **kw: f.vae.relevant_latents(**kw), lambda f: dict(k=0),
          dict(k="index")),
    # gan -----------------------------------------------------------------------------------
    Entry("gan.SpecialistGAN(...).fit", lambda f, **kw: gan.SpecialistGAN(**kw).fit(f.cats.images, f.cats.labels()),
          lambda f: dict(GAN_BASE),
          dict(n_latents="size", tasks="task names", sparsity="nonneg", width="size", discriminator_norm="choice",
               steps="count", batch_size="size", learning_rate="positive", head_learning_rate="positive",
               consistency_weight="nonneg", l1_warmup_steps="count0", l1_ramp_steps="count0",
               mask_threshold="prob", log_every="count", device="device", progress="flag", seed="seed")),
    Entry("gan.SpecialistGAN.fit", lambda f, **kw: gan.SpecialistGAN(**GAN_BASE).fit(**kw),
          lambda f: dict(images=f.cats.images, labels=f.cats.labels(), attributes=f.cats.attributes()),
          dict(images="pixels,paired", labels="array,paired,-extra axis",
               attributes="array,paired,optional,+no columns", checkpoint="path,+missing", checkpoint_every="count")),
    Entry("gan.SpecialistGAN.sample_latents", lambda f, **kw: f.gan.sample_latents(**kw), lambda f: dict(n=4, seed=0),
          dict(n="size", seed="seed")),
    Entry("gan.SpecialistGAN.generate", lambda f, **kw: f.gan.generate(**kw),
          lambda f: dict(z=f.gan.sample_latents(4), batch_size=1024), dict(z="array,+no rows", batch_size="count")),
    Entry("gan.SpecialistGAN.predict_labels", lambda f, **kw: f.gan.predict_labels(**kw),
          lambda f: dict(z=f.gan.sample_latents(4)), dict(z="array,+no rows")),
    Entry("gan.SpecialistGAN.relevant_latents", lambda f, **kw: f.gan.relevant_latents(**kw),
          lambda f: dict(task="hat"), dict(task="choice")),
    Entry("gan.SpecialistGAN.edit", lambda f, **kw: f.gan.edit(**kw),
          lambda f: dict(z=f.gan.sample_latents(4), task="hat", max_steps=2),
          dict(z="array,+no rows", task="choice", present="flag", method="choice", step_size="positive",
               max_steps="count0", confidence="prob", seed="seed")),
    # encoders ------------------------------------------------------------------------------
    Entry("encoders.FrameVAE(...).fit", lambda f, **kw: encoders.FrameVAE(**kw).fit(f.video_sample.frames),
          lambda f: dict(FRAME_VAE_BASE),
          dict(n_latents="size", prior="choice", n_static="count0", width="size", beta="nonneg", epochs="count",
               batch_size="size,+huge", learning_rate="positive", kl_warmup_epochs="count0", device="device",
               progress="flag", seed="seed")),
    Entry("encoders.FrameVAE.fit", lambda f, **kw: encoders.FrameVAE(**FRAME_VAE_BASE).fit(**kw),
          lambda f: dict(frames=f.video_sample.frames), dict(frames="pixels")),
    Entry("encoders.FrameVAE.transform", lambda f, **kw: f.frame_vae.transform(**kw),
          lambda f: dict(frames=f.video_sample.frames),
          dict(frames="pixels,-0-255,-negative,+no rows", batch_size="count")),
    Entry("encoders.FrameVAE.reconstruct", lambda f, **kw: f.frame_vae.reconstruct(**kw),
          lambda f: dict(frames=f.video_sample.frames), dict(frames="pixels,-0-255,-negative,+no rows")),
    Entry("encoders.frame_pca", lambda f, **kw: encoders.frame_pca(**kw),
          lambda f: dict(frames=f.video_sample.frames, n_components=2, seed=0),
          dict(frames="pixels,-0-255,-negative", n_components="size", seed="seed")),
    # metrics -------------------------------------------------------------------------------
    Entry("metrics.block_r2", lambda f, **kw: metrics.block_r2(**kw),
          lambda f: dict(true_block=f.latent_sample.latents[:, :2], est_block=f.latent_sample.latents[:, 1:3]),
          # an empty est_block predicts nothing: its R^2 is about 0 (documented)
          dict(true_block="array,paired,-missing axis", est_block="array,paired,-missing axis,+no columns",
               regressor="choice",
               test_fraction="prob", seed="seed"),
          extra=[("2 samples", lambda f: dict(true_block=f.latent_sample.latents[:2, :2],
                                              est_block=f.latent_sample.latents[:2, 1:3])),
                 ("3 samples", lambda f: dict(true_block=f.latent_sample.latents[:3, :2],
                                              est_block=f.latent_sample.latents[:3, 1:3])),
                 ("constant true block", lambda f: dict(true_block=np.ones((50, 2))))]),
    Entry("metrics.mean_corr_coef", lambda f, **kw: metrics.mean_corr_coef(**kw),
          lambda f: dict(z_true=f.latent_sample.latents, z_est=f.latent_sample.latents[:, ::-1]),
          dict(z_true="array,paired,-missing axis", z_est="array,paired,-missing axis", method="choice",
               return_matching="flag"),
          extra=[("constant column", lambda f: dict(z_est=np.ones((50, 4))))]),
    Entry("metrics.structure_scores", lambda f, **kw: metrics.structure_scores(**kw),
          lambda f: dict(true=f.world.assignment, found=f.world.assignment),
          dict(true="array,paired", found="array,paired")),
    Entry("metrics.pair_truth", lambda f, **kw: metrics.pair_truth(**kw), lambda f: dict(assignment=f.world.assignment),
          dict(assignment="array")),
    Entry("metrics.mean_average_precision", lambda f, **kw: metrics.mean_average_precision(**kw),
          lambda f: dict(assignment=f.world.assignment,
                         statistics=np.random.default_rng(0).random((2, 3, 3))),
          # only the pairs k < v of statistics are read: the bad entry lands on the unread diagonal
          dict(assignment="array", statistics="array,-fewer rows,+NaN entry,+inf entry", per_task="flag")),
    Entry("metrics.jacobian_magnitudes", lambda f, **kw: metrics.jacobian_magnitudes(**kw),
          lambda f: dict(fn=f.vae.task_map, x=f.z_tensor), dict(fn="callable", x="array")),
    Entry("metrics.jacobian_support", lambda f, **kw: metrics.jacobian_support(**kw),
          lambda f: dict(fn=f.vae.task_map, x=f.z_tensor), dict(fn="callable", x="array", tol="nonneg")),
    # identifiability -----------------------------------------------------------------------
    Entry("identifiability.estimated_support", lambda f, **kw: identifiability.estimated_support(**kw),
          lambda f: dict(model=f.vae, z=f.z_tensor), dict(z="array", tol="nonneg"),
          extra=[("model None", lambda f: dict(model=None)), ("model a str", lambda f: dict(model="vae"))]),
    Entry("identifiability.task_block_scores", lambda f, **kw: identifiability.task_block_scores(**kw),
          lambda f: dict(model=f.vae, world=f.latent_world, sample=f.latent_sample),
          dict(regressor="choice", tol="nonneg", seed="seed"),
          extra=[("model None", lambda f: dict(model=None)), ("world None", lambda f: dict(world=None)),
                 ("sample None", lambda f: dict(sample=None)),
                 ("collider world", lambda f: dict(world=f.world))]),
    Entry("identifiability.support_containment", lambda f, **kw: identifiability.support_containment(**kw),
          lambda f: dict(model=f.vae, world=f.latent_world, sample=f.latent_sample), dict(tol="nonneg"),
          extra=[("model None", lambda f: dict(model=None)), ("sample None", lambda f: dict(sample=None))]),
    Entry("identifiability.sample_sd", lambda f, **kw: identifiability.sample_sd(**kw),
          # one value has no spread: sample_sd gives 0.0 for it by design
          lambda f: dict(values=[1.0, 2.0, 3.0]), dict(values="array,-extra axis,-missing axis,+scalar")),
    # multitest and stats -------------------------------------------------------------------
    Entry("multitest.reject", lambda f, **kw: multitest.reject(**kw),
          lambda f: dict(pvalues=np.array([0.01, 0.2, 0.5]), alpha=0.05, correction="bh"),
          dict(pvalues="array,-extra axis,-missing axis,+empty list,+no rows", alpha="prob",
               correction="choice,optional"),
          extra=[("negative p-value", lambda f: dict(pvalues=np.array([-0.1, 0.2]))),
                 ("p-value above 1", lambda f: dict(pvalues=np.array([1.5, 0.2])))]),
    Entry("multitest.check_alpha", lambda f, **kw: multitest.check_alpha(**kw), lambda f: dict(alpha=0.05),
          dict(alpha="prob")),
    Entry("multitest.check_correction", lambda f, **kw: multitest.check_correction(**kw),
          lambda f: dict(correction="bh"), dict(correction="choice,optional")),
    Entry("stats.partial_correlation", lambda f, **kw: stats.partial_correlation(**kw),
          lambda f: dict(cov=np.cov(f.xyz.T), x=0, y=1, given=(2,)),
          dict(cov="array,-fewer rows", x="index", y="index", given="nodes")),
    Entry("stats.covariance_z_scores", lambda f, **kw: stats.covariance_z_scores(**kw),
          lambda f: dict(samples=f.xyz, population_cov=np.eye(3)),
          dict(samples="array,-missing axis", population_cov="array")),
    # theory --------------------------------------------------------------------------------
    Entry("theory.random_worlds", lambda f, **kw: list(theory.random_worlds(**kw)),
          lambda f: dict(n_worlds=2, seed=0),
          dict(n_worlds="count,+zero", L_values="levels", max_segments="size", max_tasks="size", task_role="choice",
               seed="seed")),
    Entry("theory.verify_theorem1", lambda f, **kw: theory.verify_theorem1(**kw),
          lambda f: dict(n_worlds=2, progress=False, seed=0),
          dict(n_worlds="count", L_values="levels", representatives="choice", task_role="choice", seed="seed",
               progress="flag", query="choice")),
    # baselines -----------------------------------------------------------------------------
    Entry("baselines.cca_tasks", lambda f, **kw: baselines.cca_tasks(**kw), _states_tasks,
          dict(BASELINE_ARGS, alpha="prob", correction="choice,optional", test_fraction="prob", max_iter="count")),
    Entry("baselines.seltask_tasks", lambda f, **kw: baselines.seltask_tasks(**kw), _states_tasks,
          dict(BASELINE_ARGS, alpha="prob", correction="choice,optional", threshold="prob", max_iter="count",
               tol="nonneg")),
    Entry("baselines.group_lasso_tasks", lambda f, **kw: baselines.group_lasso_tasks(**kw),
          lambda f: dict(_states_tasks(f), n_lambdas=2, tol=1e-3),
          dict(L="size", seed="seed", selection="choice", n_lambdas="size", lambda_min_ratio="prob",
               tol="positive")),
    Entry("baselines.group_lasso_tasks(selection='cv')", lambda f, **kw: baselines.group_lasso_tasks(**kw),
          lambda f: dict(_states_tasks(f), n_lambdas=2, tol=1e-3, selection="cv", cv=2), dict(cv="size")),
    # recording and profiles ----------------------------------------------------------------
    Entry("recording.record", lambda f, **kw: recording.record(**kw), lambda f: dict(name="x", value=1.0),
          dict(name="text", value="real,-str,-bool", unit="text,optional,+empty", description="text,optional,+empty",
               atol="nonneg,optional", rtol="nonneg,optional"),
          extra=[("under the runner, metrics file a folder", lambda f: _runner_metrics(TMP)),
                 ("under the runner, metrics file corrupt", lambda f: _runner_metrics(_corrupt_file("m.json"))),
                 ("under the runner, metrics file in a missing folder",
                  lambda f: _runner_metrics(os.path.join(TMP, "missing", "m.json")))]),
    Entry("recording.read_metrics", lambda f, **kw: recording.read_metrics(**kw),
          lambda f: dict(path=_valid_metrics()), dict(path="path,+missing")),  # a new metrics file starts empty
    Entry("profiles.get", lambda f, **kw: profiles.get(**kw), lambda f: dict(name="smoke"), dict(name="choice")),
    # plotting ------------------------------------------------------------------------------
    Entry("plotting.task_colors", lambda f, **kw: plotting.task_colors(**kw), lambda f: dict(M=3),
          dict(M="size,+zero")),
    Entry("plotting.show_images", lambda f, **kw: plotting.show_images(**kw),
          lambda f: dict(images=f.cats.images[:2], columns=2),
          dict(images="pixels,-0-255,-negative", columns="size", scale="positive")),
    Entry("plotting.show_video", lambda f, **kw: plotting.show_video(**kw),
          lambda f: dict(frames=f.video_sample.frames[0], step_tasks=[[1], [1], [2], [2]], L=2),
          dict(frames="pixels,-0-255,-negative", L="size,optional", scale="positive"),
          extra=[("step_tasks of the wrong length", lambda f: dict(step_tasks=[[1]])),
                 ("step_tasks None", lambda f: dict(step_tasks=None))]),
    Entry("plotting.draw_world", lambda f, **kw: plotting.draw_world(**kw), lambda f: dict(world=f.world),
          {}, extra=[("world None", lambda f: dict(world=None)), ("world a str", lambda f: dict(world="w")),
                     ("highlight unknown nodes", lambda f: dict(highlight=["zz"]))]),
]


def _runner_metrics(path):
    os.environ[recording.METRICS_ENV] = str(path)
    return {}


def _valid_metrics():
    path = os.path.join(TMP, "metrics.json")
    Path(path).write_text(json.dumps({"x": {"value": 1.0}}))
    return path


# The command line: (label, argv after ``python -m specbook``, with {tmp} for a fresh folder).
# A few folders and files are laid out first in {tmp} by _cli_files; {tmp}/good holds the committed
# book run's metrics.json, so that the options after a valid run folder are what is tested.
CLI_CASES = [
    ("no command", []), ("unknown command", ["nonsense"]),
    ("run: unknown profile", ["run", "--profile", "nonsense", "--out", "{tmp}/run"]),
    ("run: seed -1", ["run", "01", "--profile", "smoke", "--seed", "-1", "--out", "{tmp}/run"]),
    ("run: seed str", ["run", "--seed", "x", "--out", "{tmp}/run"]),
    ("run: seed 2**40", ["run", "01", "--profile", "smoke", "--seed", str(2 ** 40), "--out", "{tmp}/run"]),
    ("run: jobs 0", ["run", "01", "--profile", "smoke", "--jobs", "0", "--out", "{tmp}/run"]),
    ("run: jobs -1", ["run", "01", "--profile", "smoke", "--jobs", "-1", "--out", "{tmp}/run"]),
    ("run: timeout 0", ["run", "01", "--profile", "smoke", "--timeout", "0", "--out", "{tmp}/run"]),
    ("run: timeout -5", ["run", "01", "--profile", "smoke", "--timeout", "-5", "--out", "{tmp}/run"]),
    ("run: unknown chapter", ["run", "99", "--profile", "smoke", "--out", "{tmp}/run"]),
    ("run: chapter a word", ["run", "nonsense", "--profile", "smoke", "--out", "{tmp}/run"]),
    ("run: --out a file", ["run", "01", "--profile", "smoke", "--out", "{tmp}/file.txt"]),
    ("run: --out unwritable", ["run", "01", "--profile", "smoke", "--out", "/proc/specbook-run"]),
    ("run: --notebooks missing", ["run", "01", "--profile", "smoke", "--notebooks", "{tmp}/missing",
                                  "--out", "{tmp}/run"]),
    ("run: --notebooks a file", ["run", "01", "--profile", "smoke", "--notebooks", "{tmp}/file.txt",
                                 "--out", "{tmp}/run"]),
    ("run: --notebooks empty folder", ["run", "--profile", "smoke", "--notebooks", "{tmp}/empty",
                                       "--out", "{tmp}/run"]),
    ("run: --scheduler without dask executor", ["run", "01", "--profile", "smoke", "--scheduler", "tcp://x:1",
                                                "--out", "{tmp}/run"]),
    ("run: --resume into a corrupt run", ["run", "01", "--profile", "smoke", "--resume", "--out", "{tmp}/corrupt"]),
    ("check: missing folder", ["check", "{tmp}/missing"]),
    ("check: a file", ["check", "{tmp}/file.txt"]),
    ("check: empty folder", ["check", "{tmp}/empty"]),
    ("check: corrupt run", ["check", "{tmp}/corrupt"]),
    ("check: --against a folder", ["check", "{tmp}/good", "--against", "{tmp}/empty"]),
    ("check: --against missing", ["check", "{tmp}/good", "--against", "{tmp}/missing.json"]),
    ("check: --against corrupt", ["check", "{tmp}/good", "--against", "{tmp}/file.txt"]),
    ("check: --update --against a folder", ["check", "{tmp}/good", "--update", "--against", "{tmp}/empty"]),
    ("report: missing folder", ["report", "{tmp}/missing"]),
    ("report: a file", ["report", "{tmp}/file.txt"]),
    ("report: empty folder", ["report", "{tmp}/empty"]),
    ("report: corrupt run", ["report", "{tmp}/corrupt"]),
    ("report: --out a file", ["report", "{tmp}/good", "--out", "{tmp}/file.txt"]),
    ("report: --out unwritable", ["report", "{tmp}/good", "--out", "/proc/specbook-report"]),
    ("assignments: unknown chapter", ["assignments", "99", "--out", "{tmp}/a"]),
    ("assignments: unknown profile", ["assignments", "--profile", "nonsense", "--out", "{tmp}/a"]),
    ("assignments: --notebooks missing", ["assignments", "--notebooks", "{tmp}/missing", "--out", "{tmp}/a"]),
    ("assignments: --notebooks a file", ["assignments", "--notebooks", "{tmp}/file.txt", "--out", "{tmp}/a"]),
    ("assignments: --out a file", ["assignments", "01", "--out", "{tmp}/file.txt"]),
]


def _cli_files(tmp):
    Path(tmp, "empty").mkdir()
    Path(tmp, "file.txt").write_text("not json {\n")
    corrupt = Path(tmp, "corrupt")
    corrupt.mkdir()
    (corrupt / "metrics.json").write_text("{ truncated")
    (corrupt / "state.json").write_text("{ truncated")
    Path(tmp, "good").mkdir()
    Path(tmp, "good", "metrics.json").write_bytes((ROOT / "book" / "run" / "metrics.json").read_bytes())


# --------------------------------------------------------------------------------------------
# Cases, running them, and classifying the outcomes
# --------------------------------------------------------------------------------------------

@dataclass
class Case:
    entry: str
    module: str
    argument: str
    family: str
    kind: str = ""

    @property
    def key(self):
        return f"{self.entry} | {self.argument} | {self.family}"


def build_cases(only=None):
    entries = [e for e in ENTRIES if not only or only in e.name]
    cases = []
    for entry in entries:
        for argument, kind in entry.args.items():
            cases += [Case(entry.name, entry.module, argument, label, kind) for label, _ in families(kind)]
        cases += [Case(entry.name, entry.module, "(several)", label, "extra") for label, _ in entry.extra]
    if not only or only in "cli" or only in "python -m specbook":
        cases += [Case("python -m specbook", "cli", argv[0] if argv else "(none)", label, "cli")
                  for label, argv in CLI_CASES]
    return entries, cases


ENTRY_BY_NAME = {e.name: e for e in ENTRIES}


def _frame_text(frame):
    filename, lineno, name = frame.filename, frame.lineno, frame.name
    path = Path(filename)
    for marker in ("site-packages", "specbook", "lib"):
        if marker in path.parts:
            index = len(path.parts) - 1 - path.parts[::-1].index(marker)
            path = Path(*path.parts[index + (marker != "specbook"):])
            break
    return f"{path}:{lineno} in {name}"


def _classify_exception(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    innermost = frames[-1] if frames else None
    ours = innermost is not None and os.path.abspath(innermost.filename).startswith(PACKAGE_DIR)
    lines = SOURCES.get(os.path.abspath(innermost.filename), []) if innermost else []
    source = lines[innermost.lineno - 1].strip() if innermost and 0 < innermost.lineno <= len(lines) else ""
    message = (str(exc).splitlines() or [""])[0][:240]
    is_memory = isinstance(exc, MemoryError) or "can't allocate memory" in message or \
        "not enough memory" in message or "Unable to allocate" in message
    raised_by = ("our raise" if source.startswith("raise") else "builtin in our code") if ours else "dependency"
    if is_memory:
        outcome = "oom"
    elif raised_by == "our raise" and isinstance(exc, (ValueError, TypeError, OSError, RuntimeError)):
        outcome = "clear"   # RuntimeError: the models' own "not fitted yet"
    else:  # a dependency's error, another type, or a builtin's (float('abc'), a bad comparison) in our code
        outcome = "deep"
    last_ours = next((f for f in reversed(frames) if os.path.abspath(f.filename).startswith(PACKAGE_DIR)), None)
    return dict(outcome=outcome, raised_by=raised_by, error=type(exc).__name__, message=message,
                frame=_frame_text(innermost) if innermost else "",
                our_frame=_frame_text(last_ours) if last_ours else "")


def _describe(value):
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"{type(value).__name__}{tuple(value.shape)} {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def run_api_case(case):
    entry = ENTRY_BY_NAME[case.entry]
    fixtures = Fixtures()
    kwargs = entry.base(fixtures)
    if case.kind == "base":
        value = "(base call)"
    elif case.kind == "extra":
        overrides = dict(entry.extra)[case.family](fixtures)
        kwargs.update(overrides)
        value = ", ".join(f"{k}={_describe(v)}" for k, v in overrides.items()) or "(see label)"
    else:
        family = dict(families(case.kind))[case.family]
        bad = family(kwargs.get(case.argument))
        if bad is NOT_APPLICABLE:
            return dict(outcome="n/a", value="", error="", message="not applicable to this base value")
        kwargs[case.argument] = bad
        value = _describe(bad)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = entry.call(fixtures, **kwargs)
    except BaseException as exc:  # noqa: B902 - every failure is an outcome here
        return dict(value=value, **_classify_exception(exc))
    note = f"returned {_describe(result) if not hasattr(result, '__dict__') else type(result).__name__}"
    if caught:
        note += f"; warned: {str(caught[0].message).splitlines()[0][:120]}"
    outcome = "valid" if case.family in valid_by_design(case.kind) else "garbage"
    return dict(outcome=outcome, value=value, error="", message=note, frame="", our_frame="")


def run_cli_case(case, timeout):
    argv_template = dict(CLI_CASES)[case.family]
    _cli_files(TMP)
    argv = [a.replace("{tmp}", TMP) for a in argv_template]
    shown = " ".join(["python -m specbook"] + [a.replace(TMP, "TMP") for a in argv])
    process = subprocess.Popen([sys.executable, "-m", "specbook", *argv], cwd=TMP, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return dict(outcome="hang", value=shown, error="",
                    message=f"still running after {timeout:g} s (it started work)")
    stderr_lines = [line for line in stderr.splitlines() if line.strip()]
    if "Traceback" in stderr:
        error = stderr_lines[-1] if stderr_lines else ""
        frames = [line.strip() for line in stderr.splitlines() if line.strip().startswith("File ")]
        return dict(outcome="deep", value=shown, error=f"exit {process.returncode}", message=error[:240],
                    frame=frames[-1][:200] if frames else "")
    last = (stderr_lines or [line for line in stdout.splitlines() if line.strip()] or [""])[-1][:240]
    outcome = "clear" if process.returncode == 2 else "garbage"
    return dict(outcome=outcome, value=shown, error=f"exit {process.returncode}", message=last, frame="")


def _child(case, write_fd, timeout):
    """Run one case in this forked child and write its outcome as JSON to `write_fd`."""
    global TMP
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    if case.kind != "cli":
        soft = _address_space() + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (soft, resource.getrlimit(resource.RLIMIT_AS)[1]))
    TMP = tempfile.mkdtemp(prefix="bad_inputs_")
    try:
        result = run_cli_case(case, timeout) if case.kind == "cli" else run_api_case(case)
    except BaseException as exc:  # noqa: B902 - a failure of the harness itself (building a fixture...)
        result = dict(outcome="harness", value="", error=type(exc).__name__, message=str(exc)[:240], frame="")
    finally:
        subprocess.run(["rm", "-rf", TMP], check=False)
    payload = json.dumps(result, default=str).encode()[:60000]
    os.write(write_fd, payload)
    os._exit(0)


def _address_space():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def run_cases(cases, workers, timeout, cli_timeout):
    """Fork one child per case, `workers` at a time, each killed at its timeout."""
    pending = list(enumerate(cases))
    running = {}   # pid -> (index, started, read_fd, limit)
    results = [None] * len(cases)
    done = 0
    while pending or running:
        while pending and len(running) < workers:
            index, case = pending.pop(0)
            read_fd, write_fd = os.pipe()
            limit = cli_timeout + 5 if case.kind == "cli" else timeout
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                _child(case, write_fd, cli_timeout if case.kind == "cli" else timeout)
            os.close(write_fd)
            running[pid] = (index, time.monotonic(), read_fd, limit)
        time.sleep(0.005)
        for pid, (index, started, read_fd, limit) in list(running.items()):
            finished, status = os.waitpid(pid, os.WNOHANG)
            elapsed = time.monotonic() - started
            if not finished and elapsed < limit:
                continue
            if not finished:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                result = dict(outcome="hang", value="", error="", message=f"still running after {limit:g} s",
                              frame="")
            else:
                payload = b""
                while chunk := os.read(read_fd, 65536):
                    payload += chunk
                if payload:
                    result = json.loads(payload)
                elif os.WIFSIGNALED(status):
                    name = signal.Signals(os.WTERMSIG(status)).name
                    result = dict(outcome="oom", value="", error=name,
                                  message=f"killed by {name} (the memory limit, or a crash)", frame="")
                else:
                    result = dict(outcome="oom", value="", error=f"exit {os.WEXITSTATUS(status)}",
                                  message="died without a result (the memory limit?)", frame="")
            os.close(read_fd)
            del running[pid]
            result["seconds"] = round(elapsed, 2)
            results[index] = result
            done += 1
            if done % 50 == 0:
                print(f"  {done}/{len(cases)} cases", file=sys.stderr, flush=True)
    return results


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def _pct(count, total):
    return f"{count} ({100 * count / total:.1f}%)" if total else "0"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(records, skipped_entries, wall, args):
    counted = [r for r in records if r["outcome"] in OUTCOMES]
    total = len(counted)
    totals = Counter(r["outcome"] for r in counted)
    other = Counter(r["outcome"] for r in records if r["outcome"] not in OUTCOMES)
    lines = ["# Bad inputs over the public API: how each is refused", "",
             f"Made by `python benchmarks/bad_inputs.py{' --only ' + args.only if args.only else ''}` on "
             f"{time.strftime('%Y-%m-%d')}: {total} cases in {wall:.0f} s with {args.workers} workers "
             f"(Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
             f"{os.cpu_count()} CPUs), timeout {args.timeout:g} s a case ({args.cli_timeout:g} s a command line), "
             f"{MEMORY_HEADROOM // 2 ** 30} GiB address space above a case's start. See the script's docstring "
             "for what each outcome means; issue 16 asks for no garbage and no hang, and deep under 5%.", "",
             "| outcome | cases |", "| --- | --- |"]
    lines += [f"| {outcome} | {_pct(totals[outcome], total)} |" for outcome in OUTCOMES]
    lines += [f"| total | {total} |", ""]
    raised_by = Counter(r.get("raised_by", "command line") for r in counted if r["outcome"] == "deep")
    if raised_by:
        lines += ["Deep errors by where they were raised: " +
                  ", ".join(f"{n} {k}" for k, n in raised_by.most_common()) +
                  " (\"builtin in our code\": the innermost frame is in specbook/, but the exception comes from "
                  "a builtin operation there, e.g. numpy's \"could not convert string to float\", not from a "
                  "check of ours).", ""]
    if other:
        lines += [f"Not counted: {', '.join(f'{n} {k}' for k, n in sorted(other.items()))} "
                  "(valid: a family marked valid by design for that argument, and accepted; n/a: a family that "
                  "does not apply to the base value; harness: building the case failed).", ""]
    if skipped_entries:
        lines += ["Entries whose base call failed (their cases were not run):", ""]
        lines += [f"- `{name}`: {why}" for name, why in skipped_entries.items()] + [""]
    lines += ["## Per entry point", "", "| entry point | cases | " + " | ".join(OUTCOMES) + " |",
              "| --- | --- | " + " | ".join("---" for _ in OUTCOMES) + " |"]
    per_entry = defaultdict(Counter)
    for r in counted:
        per_entry[r["entry"]][r["outcome"]] += 1
    for name, counts in per_entry.items():
        lines.append(f"| `{name}` | {sum(counts.values())} | " +
                     " | ".join(str(counts[o]) if counts[o] else "" for o in OUTCOMES) + " |")
    lines += ["", "## Cases not refused clearly, by module", ""]
    by_module = defaultdict(list)
    for r in counted:
        if r["outcome"] != "clear":
            by_module[r["module"]].append(r)
    for module, rows in by_module.items():
        lines += [f"### {module} ({len(rows)})", "",
                  "| outcome | entry point | argument | family | value | error: message | raised at |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for r in rows:
            error = f"{r['error']}: {r['message']}" if r.get("error") else r["message"]
            lines.append(f"| {r['outcome']} | `{r['entry']}` | {r['argument']} | {_cell(r['family'])} | "
                         f"{_cell(r.get('value', ''))} | {_cell(error)} | {_cell(r.get('frame', ''))} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only",
                        help="only the entry points whose name contains this string ('cli': the command line)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a case may run (default 10)")
    parser.add_argument("--cli-timeout", type=float, default=30.0, help="seconds a command line may run (default 30)")
    parser.add_argument("--workers", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--out", type=Path, help="markdown report (default benchmarks/results/bad_inputs.md; "
                                                 "bad_inputs_only.md with --only); the JSON goes beside it")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.timeout <= 0 or args.cli_timeout <= 0:
        parser.error("--workers, --timeout and --cli-timeout must be positive")
    out = args.out or ROOT / "benchmarks" / "results" / ("bad_inputs_only.md" if args.only else "bad_inputs.md")

    entries, cases = build_cases(args.only)
    if args.list:
        for case in cases:
            print(case.key)
        print(f"{len(cases)} cases over {len(entries)} entry points (+ the command line)")
        return 0
    started = time.monotonic()
    warm_up()
    print(f"base calls of {len(entries)} entry points...", file=sys.stderr, flush=True)
    bases = run_cases([Case(e.name, e.module, "(base)", "base", "base") for e in entries], args.workers,
                      args.timeout, args.cli_timeout)
    skipped = {e.name: f"{r['outcome']}: {r.get('error', '')} {r.get('message', '')}".strip()
               for e, r in zip(entries, bases) if r["outcome"] != "garbage"}  # 'garbage' = returned normally
    cases = [c for c in cases if c.entry not in skipped]
    print(f"{len(cases)} cases...", file=sys.stderr, flush=True)
    results = run_cases(cases, args.workers, args.timeout, args.cli_timeout)
    wall = time.monotonic() - started
    records = [dict(entry=c.entry, module=c.module, argument=c.argument, family=c.family, kind=c.kind, **r)
               for c, r in zip(cases, results)]
    report = render(records, skipped, wall, args)
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    out.with_suffix(".json").write_text(json.dumps(dict(
        made=time.strftime("%Y-%m-%d %H:%M"), seconds=round(wall, 1), timeout=args.timeout,
        skipped_entries=skipped, cases=records), indent=1, default=str) + "\n")
    print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
