"""``robo-flows eval`` through its real entry point, on a toy gymnasium env: the env and kwargs come from the
checkpoint, another env is refused unless allowed, success is read from a named signal (never a silent 0),
bad sampling values are refused, and a failed evaluation leaves no folder behind."""

from __future__ import annotations

import json

import pytest
from command_toys import OTHER_ID, REACH_ID, TRAINED_KWARGS, error_line

from robo_flows.commands import main

EPISODES = ["--episodes", "3"]


def _results(out) -> dict:
    return json.loads((out / "results.json").read_text())


def test_env_and_kwargs_default_to_the_checkpoints_and_the_seed_rule_is_stated(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["eval", "--checkpoint", str(checkpoint), *EPISODES, "--seed", "7", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    results = _results(out)
    assert results["env"] == REACH_ID and results["env_kwargs"] == TRAINED_KWARGS
    assert results["success_key"] == "is_success"
    assert results["seed_rule"] == "episode i is reset with seed 100000000 + 7 + i"
    assert results["seeds"] == [100000007, 100000009]
    assert printed.out.splitlines()[0] == "seeds: episode i is reset with seed 100000000 + 7 + i"
    assert "robo-flows eval:" not in printed.err  # neither an error nor an env-mismatch warning


def test_another_env_is_refused_unless_allowed_and_then_warned_about(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["eval", "--checkpoint", str(checkpoint), "--env", OTHER_ID, *EPISODES, "--out", str(out)]
    assert main(args) == 2
    line = error_line(capsys.readouterr().err, "eval")
    assert OTHER_ID in line and REACH_ID in line and "--allow-env-mismatch" in line
    assert not out.exists()
    assert main([*args, "--allow-env-mismatch"]) == 0
    ours = [line for line in capsys.readouterr().err.splitlines() if line.startswith("robo-flows eval:")]
    assert len(ours) == 1 and ours[0].startswith("robo-flows eval: warning: evaluating on env")
    assert _results(out)["env"] == OTHER_ID


def test_a_kwarg_of_another_value_is_a_mismatch_and_given_kwargs_update_the_checkpoints(
    checkpoint, tmp_path, capsys
):
    out = tmp_path / "eval"
    args = ["eval", "--checkpoint", str(checkpoint), *EPISODES, "--out", str(out)]
    other = ["--env-kwargs", '{"success_info": "success"}']
    assert main([*args, *other]) == 2
    assert "success_info='success' (trained: 'is_success')" in error_line(capsys.readouterr().err, "eval")
    assert main([*args, *other, "--allow-env-mismatch"]) == 0
    results = _results(out)
    assert results["env_kwargs"] == {"success_info": "success"} and results["success_key"] == "success"
    same = tmp_path / "same"
    assert main([*args[:-1], str(same), "--env-kwargs", json.dumps(TRAINED_KWARGS)]) == 0


def test_an_env_without_a_success_signal_is_refused_and_leaves_no_folder(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["eval", "--checkpoint", str(checkpoint), *EPISODES, "--allow-env-mismatch", "--out", str(out)]
    silent = ["--env-kwargs", '{"success_info": "none"}']
    assert main([*args, *silent]) == 2
    err = capsys.readouterr().err.splitlines()
    line = error_line("\n".join(x for x in err if "warning:" not in x), "eval")  # the mismatch warning aside
    assert "reports no success signal" in line and "--success-key" in line
    assert not out.exists()
    assert main([*args, *silent, "--success-key", "reward"]) == 0
    results = _results(out)
    assert results["success_key"] == "reward" and 0.0 <= results["success_rate"] <= 1.0


def test_a_named_success_key_the_env_does_not_report_is_refused(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["eval", "--checkpoint", str(checkpoint), *EPISODES, "--success-key", "solved", "--out", str(out)]
    assert main(args) == 2
    assert "'solved'" in error_line(capsys.readouterr().err, "eval")
    assert not out.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_temperature_must_be_finite_and_positive(checkpoint, tmp_path, capsys, value):
    out = tmp_path / "eval"
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "--checkpoint", str(checkpoint), f"--temperature={value}", "--out", str(out)])
    assert exit_.value.code == 2
    assert "must be a finite number > 0" in error_line(capsys.readouterr().err, "eval")
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--env", "RoboFlowsTest/NoSuchEnv-v0"], "cannot make env 'RoboFlowsTest/NoSuchEnv-v0'"),
        (["--env", "no_such_module:Thing-v0"], "cannot make env 'no_such_module:Thing-v0'"),
        (["--env-kwargs", '{"bogus": 1}'], "bogus"),
    ],
)
def test_unknown_env_id_or_kwarg_is_one_line(checkpoint, tmp_path, capsys, extra, expected):
    out = tmp_path / "eval"
    args = ["eval", "--checkpoint", str(checkpoint), *EPISODES, *extra, "--allow-env-mismatch"]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert expected in error_line(err[-1], "eval")
    assert not out.exists()


def test_missing_checkpoint_and_bad_json_are_one_line(tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["eval", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(out)]) == 2
    assert "none.pt" in error_line(capsys.readouterr().err, "eval")
    with pytest.raises(SystemExit):
        main(["eval", "--expert", "--env", REACH_ID, "--env-kwargs", "{oops", "--out", str(out)])
    assert "not valid JSON" in error_line(capsys.readouterr().err, "eval")
    assert not out.exists()


def test_an_existing_run_is_kept_when_the_forced_evaluation_fails(checkpoint, tmp_path, capsys):
    out = tmp_path / "eval"
    base = ["eval", "--checkpoint", str(checkpoint), *EPISODES, "--out", str(out)]
    assert main(base) == 0
    before = (out / "results.json").read_bytes()
    capsys.readouterr()
    assert main(base) == 2
    assert "--force" in error_line(capsys.readouterr().err, "eval")
    failing = [*base, "--force", "--allow-env-mismatch", "--env-kwargs", '{"success_info": "none"}']
    assert main(failing) == 2
    assert (out / "results.json").read_bytes() == before
    assert main([*base, "--force", "--seed", "3"]) == 0
    assert _results(out)["seed"] == 3


def test_the_expert_needs_an_env_and_is_scored_like_a_policy(tmp_path, capsys):
    out = tmp_path / "expert"
    assert main(["eval", "--expert", "--out", str(out)]) == 2
    assert "--expert needs --env" in error_line(capsys.readouterr().err, "eval")
    assert main(["eval", "--expert", "--env", REACH_ID, *EPISODES, "--out", str(out)]) == 0
    assert _results(out)["actor"] == "expert"
