"""verl adapter of hicra (arXiv 2509.03646): HICRA as a plugin of an unmodified ``verl==0.9.1``.

* :mod:`hicra.verl.config` — ``algorithm.hicra.*`` options (no verl import).
* :mod:`hicra.verl.batch` — :func:`~hicra.verl.batch.apply_hicra` over a ``verl.DataProto`` (pure, CPU-testable),
  through the engine-neutral :mod:`hicra.engine` that the TRL trainer uses too.
* :mod:`hicra.verl.trainer` — ``trainer.v1.trainer_mode=hicra``, loaded by verl through the ``verl.plugins``
  entry point.
* :mod:`hicra.verl.main` — ``python -m hicra.verl.main``: verl's ``main_ppo`` with a loud startup check.

Install in its own environment: ``pip install 'hicra[verl]'`` (verl pins ``transformers<5.11``, TRL training needs
newer). Nothing here is imported by ``hicra`` itself.
"""
