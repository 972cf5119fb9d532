"""Deploying the fake driver: manifests (manifests.render) and its image (image.build_image)."""
