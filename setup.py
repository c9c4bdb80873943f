"""Ship controls/, policies/ and reports/ inside the wheel under auditor/_data/."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        for name in ("controls", "policies", "reports"):
            src = root / name
            if src.is_dir():
                dst = Path(self.build_lib) / "auditor" / "_data" / name
                shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
