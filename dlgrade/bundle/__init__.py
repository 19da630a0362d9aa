"""`dlgrade bundle student`: what students install, with the visible checks and no answers."""

from dlgrade.bundle.build import BundleError, StudentBundle, build_student_bundle

__all__ = ["BundleError", "StudentBundle", "build_student_bundle"]
