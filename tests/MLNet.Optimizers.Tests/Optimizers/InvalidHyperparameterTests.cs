using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary>
/// Every invalid hyperparameter is rejected where it comes in, with an <see cref="ArgumentOutOfRangeException"/> that names
/// it; one table, one line per case (as PyTorch's common_optimizers.py error inputs).
/// </summary>
public class InvalidHyperparameterTests
{
    private static readonly Dictionary<string, (string Parameter, Func<object> Create)> Cases = new()
    {
        ["Sgd NaN learning rate"] = ("learningRate", () => new Sgd(learningRate: double.NaN)),
        ["Sgd negative learning rate"] = ("learningRate", () => new Sgd(learningRate: -0.1)),
        ["Sgd infinite learning rate"] = ("learningRate", () => new Sgd(learningRate: double.PositiveInfinity)),
        ["Sgd momentum 1"] = ("momentum", () => new Sgd(momentum: 1)),
        ["Sgd negative momentum"] = ("momentum", () => new Sgd(momentum: -0.1)),
        ["Sgd dampening above 1"] = ("dampening", () => new Sgd(momentum: 0.9, dampening: 1.5)),
        ["Sgd NaN weight decay"] = ("weightDecay", () => new Sgd(weightDecay: double.NaN)),
        ["Sgd nesterov without momentum"] = ("nesterov", () => new Sgd(nesterov: true)),
        ["Sgd nesterov with dampening"] = ("nesterov", () => new Sgd(momentum: 0.9, dampening: 0.1, nesterov: true)),
        ["Sgd WithLearningRate NaN"] = ("learningRate", () => new Sgd().WithLearningRate(double.NaN)),
        ["Step with NaN learning rate"] = ("learningRate", () => StepWithRate(new Sgd(), double.NaN)),
        ["Step with negative learning rate"] = ("learningRate", () => StepWithRate(new Adagrad(), -1)),
        ["Adagrad NaN learning rate"] = ("learningRate", () => new Adagrad(learningRate: double.NaN)),
        ["Adagrad negative learning-rate decay"] = ("learningRateDecay", () => new Adagrad(learningRateDecay: -0.1)),
        ["Adagrad negative weight decay"] = ("weightDecay", () => new Adagrad(weightDecay: -1)),
        ["Adagrad negative initial accumulator"] = ("initialAccumulatorValue", () => new Adagrad(initialAccumulatorValue: -0.1)),
        ["Adagrad zero epsilon"] = ("epsilon", () => new Adagrad(epsilon: 0)),
        ["RmsProp infinite learning rate"] = ("learningRate", () => new RmsProp(learningRate: double.PositiveInfinity)),
        ["RmsProp alpha above 1"] = ("alpha", () => new RmsProp(alpha: 1.5)),
        ["RmsProp NaN alpha"] = ("alpha", () => new RmsProp(alpha: double.NaN)),
        ["RmsProp zero epsilon"] = ("epsilon", () => new RmsProp(epsilon: 0)),
        ["RmsProp negative weight decay"] = ("weightDecay", () => new RmsProp(weightDecay: -0.1)),
        ["RmsProp momentum 1"] = ("momentum", () => new RmsProp(momentum: 1)),
        ["Adadelta negative learning rate"] = ("learningRate", () => new Adadelta(learningRate: -1)),
        ["Adadelta rho above 1"] = ("rho", () => new Adadelta(rho: 1.1)),
        ["Adadelta negative epsilon"] = ("epsilon", () => new Adadelta(epsilon: -1e-6)),
        ["Adadelta NaN weight decay"] = ("weightDecay", () => new Adadelta(weightDecay: double.NaN)),
        ["Adam learningRate -1"] = ("learningRate", () => new Adam(learningRate: -1)),
        ["Adam learningRate NaN"] = ("learningRate", () => new Adam(learningRate: double.NaN)),
        ["Adam learningRate +inf"] = ("learningRate", () => new Adam(learningRate: double.PositiveInfinity)),
        ["Adam beta1 1"] = ("beta1", () => new Adam(beta1: 1)),
        ["Adam beta1 -0.1"] = ("beta1", () => new Adam(beta1: -0.1)),
        ["Adam beta2 1"] = ("beta2", () => new Adam(beta2: 1)),
        ["Adam beta2 NaN"] = ("beta2", () => new Adam(beta2: double.NaN)),
        ["Adam epsilon 0"] = ("epsilon", () => new Adam(epsilon: 0)),
        ["Adam weightDecay -1"] = ("weightDecay", () => new Adam(weightDecay: -1)),
        ["AdamW learningRate -0.1"] = ("learningRate", () => new AdamW(learningRate: -0.1)),
        ["AdamW beta1 1"] = ("beta1", () => new AdamW(beta1: 1)),
        ["AdamW beta2 1.5"] = ("beta2", () => new AdamW(beta2: 1.5)),
        ["AdamW epsilon -1e-8"] = ("epsilon", () => new AdamW(epsilon: -1e-8)),
        ["AdamW weightDecay +inf"] = ("weightDecay", () => new AdamW(weightDecay: double.PositiveInfinity)),
        ["Adamax learningRate NaN"] = ("learningRate", () => new Adamax(learningRate: double.NaN)),
        ["Adamax beta1 1"] = ("beta1", () => new Adamax(beta1: 1)),
        ["Adamax beta2 -1"] = ("beta2", () => new Adamax(beta2: -1)),
        ["Adamax epsilon 0"] = ("epsilon", () => new Adamax(epsilon: 0)),
        ["Adamax weightDecay -0.5"] = ("weightDecay", () => new Adamax(weightDecay: -0.5)),
        ["NAdam learningRate -1"] = ("learningRate", () => new NAdam(learningRate: -1)),
        ["NAdam beta1 1"] = ("beta1", () => new NAdam(beta1: 1)),
        ["NAdam beta2 NaN"] = ("beta2", () => new NAdam(beta2: double.NaN)),
        ["NAdam epsilon NaN"] = ("epsilon", () => new NAdam(epsilon: double.NaN)),
        ["NAdam weightDecay -1"] = ("weightDecay", () => new NAdam(weightDecay: -1)),
        ["NAdam momentumDecay -0.004"] = ("momentumDecay", () => new NAdam(momentumDecay: -0.004)),
        ["NAdam momentumDecay NaN"] = ("momentumDecay", () => new NAdam(momentumDecay: double.NaN)),
        ["RAdam learningRate -1"] = ("learningRate", () => new RAdam(learningRate: -1)),
        ["RAdam beta1 -0.5"] = ("beta1", () => new RAdam(beta1: -0.5)),
        ["RAdam beta2 1"] = ("beta2", () => new RAdam(beta2: 1)),
        ["RAdam epsilon 0"] = ("epsilon", () => new RAdam(epsilon: 0)),
        ["RAdam weightDecay NaN"] = ("weightDecay", () => new RAdam(weightDecay: double.NaN)),
        ["ScheduleFreeAdamW learningRate -1"] = ("learningRate", () => new ScheduleFreeAdamW(learningRate: -1)),
        ["ScheduleFreeAdamW learningRate NaN"] = ("learningRate", () => new ScheduleFreeAdamW(learningRate: double.NaN)),
        ["ScheduleFreeAdamW beta1 0"] = ("beta1", () => new ScheduleFreeAdamW(beta1: 0)),
        ["ScheduleFreeAdamW beta1 1"] = ("beta1", () => new ScheduleFreeAdamW(beta1: 1)),
        ["ScheduleFreeAdamW beta2 1"] = ("beta2", () => new ScheduleFreeAdamW(beta2: 1)),
        ["ScheduleFreeAdamW epsilon 0"] = ("epsilon", () => new ScheduleFreeAdamW(epsilon: 0)),
        ["ScheduleFreeAdamW weightDecay -1"] = ("weightDecay", () => new ScheduleFreeAdamW(weightDecay: -1)),
        ["ScheduleFreeAdamW warmupSteps -1"] = ("warmupSteps", () => new ScheduleFreeAdamW(warmupSteps: -1)),
        ["ScheduleFreeAdamW r -1"] = ("r", () => new ScheduleFreeAdamW(r: -1)),
        ["ScheduleFreeAdamW r NaN"] = ("r", () => new ScheduleFreeAdamW(r: double.NaN)),
        ["ScheduleFreeAdamW weightLrPower -2"] = ("weightLrPower", () => new ScheduleFreeAdamW(weightLrPower: -2)),
        ["ScheduleFreeSgd learningRate +inf"] = ("learningRate", () => new ScheduleFreeSgd(learningRate: double.PositiveInfinity)),
        ["ScheduleFreeSgd momentum 0"] = ("momentum", () => new ScheduleFreeSgd(momentum: 0)),
        ["ScheduleFreeSgd momentum 1"] = ("momentum", () => new ScheduleFreeSgd(momentum: 1)),
        ["ScheduleFreeSgd momentum NaN"] = ("momentum", () => new ScheduleFreeSgd(momentum: double.NaN)),
        ["ScheduleFreeSgd weightDecay -0.1"] = ("weightDecay", () => new ScheduleFreeSgd(weightDecay: -0.1)),
        ["ScheduleFreeSgd warmupSteps -5"] = ("warmupSteps", () => new ScheduleFreeSgd(warmupSteps: -5)),
        ["ScheduleFreeSgd r -0.5"] = ("r", () => new ScheduleFreeSgd(r: -0.5)),
        ["ScheduleFreeSgd weightLrPower NaN"] = ("weightLrPower", () => new ScheduleFreeSgd(weightLrPower: double.NaN)),
        ["Lbfgs learningRate 0"] = ("learningRate", () => new Lbfgs(learningRate: 0)),
        ["Lbfgs learningRate NaN"] = ("learningRate", () => new Lbfgs(learningRate: double.NaN)),
        ["Lbfgs learningRate +inf"] = ("learningRate", () => new Lbfgs(learningRate: double.PositiveInfinity)),
        ["Lbfgs WithLearningRate -1"] = ("learningRate", () => new Lbfgs().WithLearningRate(-1)),
        ["Lbfgs historySize 0"] = ("historySize", () => new Lbfgs(historySize: 0)),
        ["Lbfgs gradientTolerance -1e-9"] = ("gradientTolerance", () => new Lbfgs(gradientTolerance: -1e-9)),
        ["Lbfgs gradientTolerance NaN"] = ("gradientTolerance", () => new Lbfgs(gradientTolerance: double.NaN)),
        ["Lbfgs changeTolerance +inf"] = ("changeTolerance", () => new Lbfgs(changeTolerance: double.PositiveInfinity)),
        ["Lbfgs undefined lineSearch"] = ("lineSearch", () => new Lbfgs(lineSearch: (LineSearch)7)),
        ["Lbfgs parameterCount 0"] = ("parameterCount", () => new Lbfgs().CreateState(0)),
        ["Lbfgs maxIterations 0"] = ("maxIterations", () => new Lbfgs().Minimize(new float[1], (_, _) => 0.0, maxIterations: 0)),
        ["Lbfgs maxEvaluations 0"] = ("maxEvaluations", () => new Lbfgs().Minimize(new float[1], (_, _) => 0.0, maxIterations: 5, maxEvaluations: 0)),
        ["StepDecay step size 0"] = ("stepSize", () => new StepDecay(stepSize: 0)),
        ["StepDecay gamma above 1"] = ("gamma", () => new StepDecay(stepSize: 10, gamma: 1.5)),
        ["ExponentialDecay NaN gamma"] = ("gamma", () => new ExponentialDecay(gamma: double.NaN)),
        ["ExponentialDecay negative gamma"] = ("gamma", () => new ExponentialDecay(gamma: -0.5)),
        ["CosineAnnealing period 0"] = ("period", () => new CosineAnnealing(period: 0)),
        ["CosineAnnealing negative minimum"] = ("minimumLearningRate", () => new CosineAnnealing(period: 10, minimumLearningRate: -1e-3)),
        ["CosineAnnealing period multiplier 0"] = ("periodMultiplier", () => new CosineAnnealing(period: 10, warmRestarts: true, periodMultiplier: 0)),
        ["CosineAnnealing multiplier without restarts"] = ("periodMultiplier", () => new CosineAnnealing(period: 10, periodMultiplier: 2)),
        ["LinearWarmup 0 steps"] = ("warmupSteps", () => new LinearWarmup(warmupSteps: 0)),
        ["LinearWarmup start factor above 1"] = ("startFactor", () => new LinearWarmup(warmupSteps: 5, startFactor: 1.5)),
        ["OneCycle 0 total steps"] = ("totalSteps", () => new OneCycle(totalSteps: 0, maxLearningRate: 0.1)),
        ["OneCycle zero max rate"] = ("maxLearningRate", () => new OneCycle(totalSteps: 100, maxLearningRate: 0)),
        ["OneCycle pctStart above 1"] = ("pctStart", () => new OneCycle(totalSteps: 100, maxLearningRate: 0.1, pctStart: 1.1)),
        ["OneCycle zero divFactor"] = ("divFactor", () => new OneCycle(totalSteps: 100, maxLearningRate: 0.1, divFactor: 0)),
        ["OneCycle NaN finalDivFactor"] = ("finalDivFactor", () => new OneCycle(totalSteps: 100, maxLearningRate: 0.1, finalDivFactor: double.NaN)),
        ["OneCycle undefined annealing"] = ("annealing", () => new OneCycle(totalSteps: 100, maxLearningRate: 0.1, annealing: (AnnealingStrategy)7)),
        ["ClipByGlobalNorm zero"] = ("maxNorm", () => GradientClipping.ByGlobalNorm(0)),
        ["ClipByGlobalNorm NaN"] = ("maxNorm", () => new ClipByGlobalNorm(double.NaN)),
        ["ClipByValue negative"] = ("clipValue", () => GradientClipping.ByValue(-1)),
        ["ClipByValue infinite"] = ("clipValue", () => new ClipByValue(double.PositiveInfinity)),
        ["GradientStepper negative parameter count"] = ("parameterCount", () => new GradientStepper(new Sgd(), -1)),
    };

    public static TheoryData<string> InvalidCases => new(Cases.Keys);

    [Theory, MemberData(nameof(InvalidCases))]
    public void Invalid_hyperparameter_throws_naming_the_parameter(string invalidCase)
    {
        var (parameter, create) = Cases[invalidCase];
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => create());
        Assert.Equal(parameter, error.ParamName);
        Assert.Contains(parameter, error.Message);
        Assert.DoesNotContain("Actual value was", error.Message);
    }

    [Fact]
    public void The_message_states_the_value_once()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: -1));
        Assert.Equal("learningRate must be finite and >= 0; got -1. (Parameter 'learningRate')", error.Message);
    }

    private static object StepWithRate(FirstOrderOptimizer rule, double learningRate)
    {
        var state = rule.CreateState(1);
        rule.Step([1f], [1f], state, learningRate);
        return state;
    }
}
