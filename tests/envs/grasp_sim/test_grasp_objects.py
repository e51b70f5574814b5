import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from robo_flows_envs.grasp_sim.gripper import MAX_GRASP_WIDTH
from robo_flows_envs.grasp_sim.objects import (
    _BANDS,
    _SIZE_RANGES,
    DESCRIPTOR_DIM,
    KINDS,
    Primitive,
    describe,
    grasp_widths,
    parse_object_spec,
    sample_primitives,
)


def test_parse_reads_each_kind():
    assert parse_object_spec("box:0.05,0.04,0.12") == Primitive("box", (0.05, 0.04, 0.12))
    assert parse_object_spec("cylinder:0.03,0.1") == Primitive("cylinder", (0.03, 0.1))
    assert parse_object_spec(" Sphere :0.03") == Primitive("sphere", (0.03,))


@given(st.sampled_from(KINDS), st.integers(0, 2**32 - 1))
def test_spec_round_trips(kind, seed):
    rng = np.random.default_rng(seed)
    p = next(q for q in sample_primitives(rng, 20) if q.kind == kind)
    assert parse_object_spec(p.spec).dims == pytest.approx(p.dims, rel=1e-5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cone:0.1,0.2", "unknown primitive kind 'cone'"),
        ("box:0.05,0.04", "takes 3 dimension"),
        ("sphere:0.02,0.03", "takes 1 dimension"),
        ("box:0.05,-0.04,0.1", "y must be a positive number of metres, got -0.04"),
        ("sphere:nan", "radius must be a positive number"),
        ("box:a,b,c", "comma separated numbers"),
        ("box 0.05", "must look like"),
        ("box:0.005,0.04,0.1", "x = 0.005 m is outside"),
        ("box:0.09,0.1,0.12", "Panda opening is 0.08 m"),
        ("sphere:0.045", "diameter 0.09 m"),
        ("cylinder:0.05,0.1", "not graspable"),
    ],
)
def test_bad_specs_raise_naming_the_value(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_object_spec(spec)


def test_cylinder_with_wide_radius_is_graspable_across_its_height():
    p = parse_object_spec("cylinder:0.05,0.06")
    assert grasp_widths(p)["height"] <= MAX_GRASP_WIDTH


def _band(value: float, low: float, high: float) -> int:
    return int((value - low) / ((high - low) / _BANDS))


@pytest.mark.parametrize("held_out", [False, True])
def test_sampled_sizes_lie_in_their_own_bands(held_out):
    prims = sample_primitives(np.random.default_rng(0), 300, held_out=held_out)
    assert {p.kind for p in prims} == set(KINDS)
    for p in prims:
        for value, (lo, hi) in zip(p.dims, _SIZE_RANGES[p.kind], strict=True):
            assert lo <= value < hi
            assert _band(value, lo, hi) % 2 == int(held_out)


def test_sampling_is_seeded():
    a = sample_primitives(np.random.default_rng(3), 10)
    b = sample_primitives(np.random.default_rng(3), 10)
    assert a == b


def test_descriptor_is_one_hot_kind_then_padded_dims():
    d = describe(Primitive("cylinder", (0.02, 0.1)))
    assert d.dtype == np.float32 and d.shape == (DESCRIPTOR_DIM,)
    np.testing.assert_allclose(d, [0, 1, 0, 0.02, 0.1, 0], rtol=1e-6)
