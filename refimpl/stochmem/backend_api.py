"""The backend contract: what an engine must offer the training loop and the conformance suite.

A backend computes what ``specs/`` specifies. It declares :class:`Capabilities`: which network kinds it
implements and whether it follows the specified generator exactly (``exact``: bit-identical streams and counts,
[SPEC 6.1]) or only statistically ([SPEC 6.2]). Values cross the contract in the reference's plain types
(floats, lists, :class:`bitarray.bitarray`, :class:`stochmem.network.Layer`) so that any engine can be compared
with any other; inside, an engine keeps whatever representation is fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bitarray import bitarray

from stochmem.config import NETWORK_KINDS, DeviceParams, NetworkConfig
from stochmem.data import Dataset, corrupt
from stochmem.network import Layer, StepResult
from stochmem.rng import Draw

#: Backends with a thread pool honour these (``stochmem --threads`` and ``stochmem reproduce`` set them): the thread
#: count asked for, and how many worker processes share the machine's cores (each takes its share).
THREADS_ENV = "STOCHMEM_THREADS"
WORKERS_ENV = "STOCHMEM_WORKERS"


class BackendError(RuntimeError):
    """A backend is unknown, unavailable, or broken; the message names it and says why."""


#: [SPEC 6.5] The clause groups an implementation may claim, each with the operations of the contract it answers.
#: A hardware block that is only the stream encoder and AND/popcount claims ``streams``; the suite then certifies
#: exactly that group and says that the others were not tested.
CLAUSE_GROUPS: dict[str, str] = {
    "randomness": "[SPEC 2.1, 2.5] Philox4x32-10 words and Box-Muller normals (philox, normals)",
    "streams": "[SPEC 1.1-1.4] Bernoulli streams and AND/popcount coincidences (encode, coincidence_counts)",
    "device": "[SPEC 4.3-4.5] programming events and resets of the device pair (program, reset)",
    "network": "[SPEC 3, 4.6] crossbar updates and whole networks (update_layer, create_model)",
    "data": "[SPEC 5.3, 5.4] the optional data-path methods (read_image, corrupt)",
}
#: The backend operations a backend that claims a group must answer, by group.
GROUP_OPERATIONS: dict[str, tuple[str, ...]] = {
    "randomness": ("philox", "normals"),
    "streams": ("encode", "coincidence_counts"),
    "device": ("program", "reset"),
    "network": ("update_layer", "create_model"),
    "data": ("read_image", "corrupt"),
}


def default_groups(kinds: frozenset[str]) -> frozenset[str]:
    """The groups a backend claims when it does not say: all of them, but ``device`` only with the memristive
    kind (before groups existed, the device tests ran only for backends that implement that kind)."""
    return frozenset(g for g in CLAUSE_GROUPS if g != "device" or "memristive" in kinds)


@dataclass(frozen=True)
class Capabilities:
    """What a backend claims. The conformance suite tests exactly these claims.

    ``groups`` are the clause groups it implements (:data:`CLAUSE_GROUPS`; default :func:`default_groups`);
    ``kinds`` the network kinds its ``network`` group implements (empty exactly when it does not claim
    ``network``); ``exact`` whether it follows the specified generator bit for bit ([SPEC 6.1]) or only
    statistically ([SPEC 6.2]).
    """

    kinds: frozenset[str] = frozenset(NETWORK_KINDS)
    exact: bool = True
    groups: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.groups is None:
            object.__setattr__(self, "groups", default_groups(frozenset(self.kinds)))
        unknown_groups = set(self.claimed) - set(CLAUSE_GROUPS)
        if unknown_groups or not self.claimed:
            raise ValueError(f"groups must be a non-empty subset of {tuple(CLAUSE_GROUPS)}, "
                             f"got {sorted(self.claimed)}")
        unknown = set(self.kinds) - set(NETWORK_KINDS)
        if unknown or bool(self.kinds) != ("network" in self.claimed):
            raise ValueError(f"kinds must be a non-empty subset of {NETWORK_KINDS} when the network group is "
                             f"claimed, and empty otherwise; got {sorted(self.kinds)}")

    @property
    def claimed(self) -> frozenset[str]:
        """The clause groups claimed (``groups`` after defaults)."""
        return self.groups if self.groups is not None else frozenset()

    def describe(self) -> str:
        groups = ",".join(g for g in CLAUSE_GROUPS if g in self.claimed)
        kinds = ",".join(k for k in NETWORK_KINDS if k in self.kinds)
        return f"{'exact' if self.exact else 'statistical'}; groups {groups}" + (f"; kinds {kinds}" if kinds else "")


@runtime_checkable
class Model(Protocol):
    """A network being trained or evaluated by one backend ([SPEC 3.5-3.9])."""

    def train_step(self, image: Sequence[float], label: int, step: int, eta: float) -> StepResult:
        """[SPEC 3.5] One training step; returns the forward pass's loss and predicted class."""
        ...

    def predict(self, image: Sequence[float], image_index: int, repeat: int = 0,
                bit_length: int | None = None) -> int:
        """[SPEC 3.9] The predicted class of test image ``image_index`` in evaluation repeat ``repeat``."""
        ...

    def export_layers(self) -> list[Layer]:
        """The state of every crossbar in the reference's shape (weights, and level coordinates if memristive)."""
        ...

    def load_layers(self, layers: list[Layer]) -> None:
        """Replace the state of every crossbar (the inverse of :meth:`export_layers`)."""
        ...


@runtime_checkable
class Backend(Protocol):
    """An engine. Primitive operations mirror the specification's clauses; ``create_model`` does the rest.

    Two optional methods let an engine keep the data path as fast as its model: :class:`ReadsImages` and
    :class:`CorruptsInputs` declare them, :func:`image_reader` and :func:`input_corrupter` pick the backend's or
    the reference's.
    """

    name: str
    version: str
    capabilities: Capabilities

    def philox(self, counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, int, int, int]:
        """[SPEC 2.1] Philox4x32-10 (exact backends only; others raise NotImplementedError)."""
        ...

    def normals(self, draw: Draw, count: int) -> list[float]:
        """[SPEC 2.5] Normals 0 .. count-1 of ``draw`` (statistical backends: any standard normals)."""
        ...

    def encode(self, probabilities: Sequence[float], bit_length: int, draw: Draw) -> list[bitarray]:
        """[SPEC 1.2, 1.3] One stream of ``bit_length`` bits per probability."""
        ...

    def coincidence_counts(self, row_probabilities: Sequence[float], column_probabilities: Sequence[float],
                           bit_length: int, row_draw: Draw, column_draw: Draw) -> list[list[int]]:
        """[SPEC 1.4, 3.8] counts[j][i] = popcount(row_i AND column_j) of streams encoded from the probabilities."""
        ...

    def update_layer(self, layer: Layer, inputs: Sequence[float], deltas: Sequence[float], eta: float,
                     config: NetworkConfig, seed: int, step: int, index: int) -> Layer:
        """[SPEC 3.7, 3.8, 4.3] Crossbar ``index`` after one image's update; ``inputs`` end with the bias 1."""
        ...

    def program(self, levels: Sequence[float], pulses: Sequence[int], synapses: Sequence[int],
                params: DeviceParams, noise: Draw, bit_length: int) -> list[float]:
        """[SPEC 4.3, 4.4] Level coordinates after programming events of ``pulses`` at synapse indices."""
        ...

    def reset(self, g_plus: Sequence[float], g_minus: Sequence[float], synapses: Sequence[int],
              params: DeviceParams, noise: Draw) -> tuple[list[float], list[float]]:
        """[SPEC 4.5] Device pairs after a reset."""
        ...

    def create_model(self, config: NetworkConfig, seed: int) -> Model:
        """[SPEC 3.4, 4.6] A freshly initialised network."""
        ...


@runtime_checkable
class ReadsImages(Protocol):
    """Optional backend method: the inputs of an image, exactly as :meth:`stochmem.data.Dataset.image` [SPEC 5.3]."""

    def read_image(self, dataset: Dataset, index: int) -> Sequence[float]:
        ...


@runtime_checkable
class CorruptsInputs(Protocol):
    """Optional backend method: noisy test inputs, exactly as :func:`stochmem.data.corrupt` [SPEC 5.4]."""

    def corrupt(self, image: Sequence[float], variance: float, seed: int, image_index: int,
                repeat: int = 0) -> Sequence[float]:
        ...


#: How an engine gets image ``index`` of a data set as its inputs: ``Dataset.image`` (a list of pixel / 255),
#: or a backend's faster exact twin (``read_image``), e.g. a NumPy array of the same floats.
ImageReader = Callable[[Dataset, int], Sequence[float]]
#: ``corrupt(image, variance, seed, image_index, repeat)``: the reference's or a backend's exact twin.
InputCorrupter = Callable[..., Sequence[float]]


def image_reader(backend: Backend) -> ImageReader:
    """The backend's ``read_image`` if it offers one ([SPEC 5.3]), else :meth:`stochmem.data.Dataset.image`."""
    return backend.read_image if isinstance(backend, ReadsImages) else Dataset.image


def input_corrupter(backend: Backend) -> InputCorrupter:
    """The backend's ``corrupt`` if it offers one ([SPEC 5.4]), else :func:`stochmem.data.corrupt`."""
    return backend.corrupt if isinstance(backend, CorruptsInputs) else corrupt


def protocol_members(protocol: type) -> list[str]:
    """The attributes and methods a protocol requires (its annotations and public functions)."""
    methods = [name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")]
    return sorted({*getattr(protocol, "__annotations__", {}), *methods})


@dataclass(frozen=True)
class BackendEntry:
    """A registered backend: its name, who registered it, and how to load it (or why it cannot be)."""

    name: str
    plugin: str
    load: Callable[[], Backend] | None
    version: str = ""
    capabilities: Capabilities | None = None
    unavailable: str | None = None  #: why it cannot load, e.g. 'pip install "stochmem[numba]"'
    description: str = ""


@dataclass
class BackendRegistry:
    """Handed to ``stochmem_register_backends``; collects every plugin's backends."""

    entries: dict[str, BackendEntry] = field(default_factory=dict)
    current_plugin: str = "?"

    def add(self, name: str, load: Callable[[], Backend], *, version: str, capabilities: Capabilities,
            description: str = "") -> None:
        """Register backend ``name``; ``load()`` returns the :class:`Backend` (import heavy modules there)."""
        self._check_name(name)
        if not callable(load) or not isinstance(capabilities, Capabilities):
            raise BackendError(f"plugin {self.current_plugin!r} registered backend {name!r} with a malformed "
                               "entry: load must be callable and capabilities a stochmem Capabilities")
        self.entries[name] = BackendEntry(name, self.current_plugin, load, version, capabilities, None, description)

    def add_unavailable(self, name: str, reason: str, description: str = "") -> None:
        """Register a backend that cannot load here, with the reason (e.g. the extra to install)."""
        self._check_name(name)
        self.entries[name] = BackendEntry(name, self.current_plugin, None, unavailable=reason,
                                          description=description)

    def _check_name(self, name: str) -> None:
        if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isalnum():
            raise BackendError(f"plugin {self.current_plugin!r} registered a backend with the invalid name "
                               f"{name!r}: use letters, digits, '-' and '_'")
        if name in self.entries:
            raise BackendError(f"backend {name!r} is registered twice: by {self.entries[name].plugin!r} and "
                               f"by {self.current_plugin!r}; block one plugin with STOCHMEM_BLOCK_PLUGINS=NAME")
