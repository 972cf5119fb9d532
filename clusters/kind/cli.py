"""`dra-conformance cluster …` and `dra-conformance image …`."""

from __future__ import annotations

import argparse
from pathlib import Path

from clusters.kind import cluster, config, ownership, versions
from clusters.kind.forge.node_image import ensure_node_image
from dra_conformance.progress import console


def add_spec_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k8s", "--k8s-version", dest="k8s", default=versions.default_minor(),
                   help=f"Kubernetes version: {_minors_help()} or an exact patch")
    p.add_argument("--profile", default="default", help=f"cluster profile: {', '.join(versions.profile_names())}")
    p.add_argument("--workers", type=int, default=2)


def _minors_help() -> str:
    return ", ".join(m + (" (pre-release)" if versions.prerelease(m) else "") for m in versions.minors())


def spec_from(args: argparse.Namespace) -> config.ClusterSpec:
    spec = config.ClusterSpec(args.k8s, args.profile, args.workers)
    versions.profile(spec.profile)
    spec.release  # noqa: B018 - validates the version before any slow step
    return spec


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("cluster", help="create, reuse, delete and inspect DRA-ready kind clusters")
    csub = c.add_subparsers(dest="action", required=True)

    create = csub.add_parser("create", help="create (or reuse an identical) cluster and wait until Ready")
    add_spec_options(create)
    create.add_argument("--image-source", default="auto", choices=cluster.IMAGE_SOURCES,
                        help="kindest: pull kindest/node; forge: build offline; auto: pull, else forge")
    create.add_argument("--node-image", help="use this node image as is")
    create.set_defaults(func=_create)

    delete = csub.add_parser("delete", help="delete a cluster the harness made")
    add_spec_options(delete)
    delete.add_argument("--name", help="cluster name (default: derived from --k8s/--profile)")
    delete.set_defaults(func=_delete)

    logs = csub.add_parser("logs", help="export node and component logs")
    add_spec_options(logs)
    logs.add_argument("--name")
    logs.add_argument("--out", type=Path, default=Path("cluster-logs"))
    logs.set_defaults(func=_logs)

    show = csub.add_parser("config", help="print the kind config `cluster create` would use on this host")
    add_spec_options(show)
    show.add_argument("--image-source", default="auto", choices=cluster.IMAGE_SOURCES)
    show.add_argument("--node-image", help="use this node image as is")
    show.set_defaults(func=_config)

    ls = csub.add_parser("list", help="list kind clusters")
    ls.set_defaults(func=lambda a: console.print("\n".join(cluster.existing()) or "no clusters") or 0)

    img = sub.add_parser("image", help="build the offline node image for a version")
    img.add_argument("--k8s", "--k8s-version", dest="k8s", default=versions.default_minor())
    img.set_defaults(func=lambda a: print(ensure_node_image(versions.release(a.k8s).patch)) or 0)


def _create(args: argparse.Namespace) -> int:
    # A cluster made (or reused) here is the user's: no run deletes it.
    made = cluster.ensure(spec_from(args), image_source=args.image_source, image=args.node_image,
                          owner=ownership.Owner.me(ownership.BY_USER, None, keep=True))
    console.print(f"cluster [bold]{made.name}[/] ready: {cluster.server_version(made.kubeconfig)}, "
                  f"kubeconfig {made.kubeconfig}, config {made.config_path}")
    return 0


def _name(args: argparse.Namespace) -> str:
    return args.name or config.cluster_name(spec_from(args))


def _delete(args: argparse.Namespace) -> int:
    name = _name(args)
    if name not in cluster.existing():
        console.print(f"no cluster {name}")
        return 0
    cluster.delete(name)
    console.print(f"deleted {name}")
    return 0


def _logs(args: argparse.Namespace) -> int:
    console.print(f"logs in {cluster.export_logs(_name(args), args.out)}")
    return 0


def _config(args: argparse.Namespace) -> int:
    spec = cluster.for_host(spec_from(args))
    node = args.node_image or cluster.node_image(spec, args.image_source, build=False)
    print(config.dump(config.render(spec, node)), end="")
    return 0
