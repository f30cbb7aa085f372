import torch

# Torch's default thread pool oversubscribes the 2-core CI machines and makes
# the many small fits of the estimator checks several times slower.
torch.set_num_threads(1)
