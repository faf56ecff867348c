"""A sweep on a Dask cluster that speaks only TLS, as the README tells researchers to set one up."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_sweep import assert_same_runs, write_experiment

from matryoshka.model.params import ConfigError
from matryoshka.runs.sweep import run_sweep

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and its key, for the scheduler, the worker and the client alike."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=matryoshka-test", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    return cert, key


def test_a_sweep_runs_on_a_tls_cluster_with_the_client_certificate_in_dasks_configuration(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    import dask
    from distributed.security import Security

    cert, key = map(str, certificate)
    roles = {f"tls_{role}_{part}": path for role in ("scheduler", "worker", "client")
             for part, path in (("cert", cert), ("key", key))}  # fmt: skip
    security = Security(tls_ca_file=cert, require_encryption=True, **roles)
    exp = write_experiment(tmp_path, count=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls",
                                  host="127.0.0.1", security=security,
                                  dashboard_address=None) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        # without a client certificate in Dask's configuration: one clear error, before connecting
        with pytest.raises(ConfigError, match=f"--scheduler '{address}' speaks TLS, but Dask"):
            run_sweep(exp, tmp_path / "refused", scheduler=address, progress=False)
        tls = "distributed.comm.tls"
        with dask.config.set({f"{tls}.ca-file": cert, f"{tls}.client.cert": cert, f"{tls}.client.key": key}):
            result = run_sweep(exp, tmp_path / "tls", scheduler=address, progress=False)
    assert (result.total, result.complete, result.failed) == (2, 2, 0)
    run_sweep(exp, tmp_path / "serial", workers=1, progress=False)
    assert_same_runs(tmp_path / "serial", tmp_path / "tls")
