import torch

# Torch's default thread pool oversubscribes the 2-core CI machines and makes
# the many small fits of the estimator checks (tests/) and of the docstring
# examples (skff/) several times slower. At the repository root so that it
# covers both.
torch.set_num_threads(1)
