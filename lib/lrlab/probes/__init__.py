"""Measurements taken during training (the ``probes`` room of the library).

- :mod:`lrlab.probes.neurons`: per-neuron activity and fluctuation statistics (chapter ``fluctuations``).
- :mod:`lrlab.probes.scale_invariant`: ρ, effective learning rate, effective gradient, projection on the sphere
  (chapters ``sphere_regimes`` and ``periodic_bn_wd``).
- :mod:`lrlab.probes.sharpness`: Hessian-vector products (double backward for any model, Pearlmutter's
  R-operator for MLPs under half-MSE), the top Hessian eigenvalue by Lanczos (the largest algebraic eigenvalue,
  as ``eigsh(which='LA')``, tested after every product and warm-started) and a power-iteration baseline
  (chapter ``eos_ntk``).
- :mod:`lrlab.probes.ntk`: the empirical neural tangent kernel by Jacobian contraction (``torch.func``),
  kernel-target alignment, normalised eigenvalues and eigenvector alignment (chapter ``eos_ntk``).
"""
