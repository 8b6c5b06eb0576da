// TEMPORARY stand-ins for the `core` (Objectives/, Training/) and `lbfgs` branches, written from /work/notes/training-contract.md
// so the `trainers` branch builds before they land. This file is deleted when those branches are merged; nothing else may use it.
#pragma warning disable CS1591
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers
{
    public sealed class Lbfgs : IOptimizer
    {
        public Lbfgs(double learningRate = 1) => LearningRate = learningRate;
        public string Name => "Lbfgs";
        public double LearningRate { get; }
        public IOptimizer WithLearningRate(double learningRate) => new Lbfgs(learningRate);
    }
}

