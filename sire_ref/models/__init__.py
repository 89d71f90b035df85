"""Models built from the cells and layers: `recurrent` (the recurrent set model, Eq. 2.2, and DeepSets,
Eq. 1.1), `pointsets` (the point-cloud DeepSets with its permutation-equivariant encoder), `convnet`
(the CNN baseline of Locally Perturbed MNIST). Each is init / forward / backward / loss_and_grads."""
