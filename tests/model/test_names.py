"""The activation names a spec checks without SymPy are the registry's, and every other
activation fails as :func:`overlapdyn.model.activations.activation` makes it fail."""

import pytest

from overlapdyn.model import activations
from overlapdyn.model.names import ACTIVATION_NAMES, check_activation, is_activation_name


def test_the_names_are_the_registry_s():
    assert tuple(activations.NAMED) == ACTIVATION_NAMES
    assert all(is_activation_name(name) for name in ("erf", "he0", "he12", "softplus"))
    assert not any(is_activation_name(name) for name in ("He3", "he", "hex", "erff", "x"))


@pytest.mark.parametrize("spec", ["erf", " ReLU ", "He3", "he007", "x + He2(x)", "tanh(2*x)"])
def test_known_activations_pass(spec):
    check_activation(spec)
    activations.activation(spec)   # the registry agrees


@pytest.mark.parametrize("spec", ["erff", "He", "He3x", "x +", "tanh(y)", "x*z", 3, None])
def test_others_fail_as_the_registry_fails(spec):
    with pytest.raises(Exception) as registry:
        activations.activation(spec)
    with pytest.raises(type(registry.value)) as checked:
        check_activation(spec)
    assert str(checked.value) == str(registry.value)
