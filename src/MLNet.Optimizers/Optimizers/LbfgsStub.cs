// TEMPORARY stand-in for the `lbfgs` branch (the trainers' default optimizer) so the `trainers` branch builds before it lands
// in main. This file is deleted when those branches are merged; nothing else may use it.
#pragma warning disable CS1591

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
