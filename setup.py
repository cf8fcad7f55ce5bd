"""Package set-up: everything comes from settings.ini (the nbdev 2 way)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

here = Path(__file__).parent
cfg = ConfigParser(delimiters=["="])
cfg.read(here / "settings.ini", encoding="utf-8")
c = cfg["DEFAULT"]

licenses = {"apache2": "Apache-2.0"}  # SPDX expression
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable"]
min_python = c["min_python"]
extras = {k[len("extra_"):]: v.split() for k, v in c.items() if k.startswith("extra_")}   # [tensorboard], ...
dev = c["dev_requirements"].split() + [r for e in c["dev_extras"].split() for r in extras[e]]   # + what tests run

setuptools.setup(
    name=c["repo"],
    version=c["version"],
    description=c["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8") if (here / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    author=c["author"],
    author_email=c["author_email"],
    url=c["git_url"],
    license=licenses[c["license"]],
    keywords=c["keywords"].split(),
    classifiers=[
        "Development Status :: " + statuses[int(c["status"]) - 1],
        "Intended Audience :: " + c["audience"].title(),
        "Natural Language :: " + c["language"].title(),
        "Programming Language :: Python :: 3",
    ],
    # models/ holds the zoo (data, no __init__.py): named as a package so that setuptools keeps shipping it
    packages=setuptools.find_packages(include=[c["lib_name"], c["lib_name"] + ".*"]) + [c["lib_name"] + ".models"],
    include_package_data=True,
    python_requires=">=" + min_python,
    install_requires=c["requirements"].split(),
    extras_require={**extras, "dev": dev},
    entry_points={
        "console_scripts": c["console_scripts"].split(),
        "nbdev": [f"{c['lib_name']}={c['lib_name']}._modidx:d"],
    },
    zip_safe=False,
)
