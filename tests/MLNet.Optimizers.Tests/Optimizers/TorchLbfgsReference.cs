namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary>
/// An independent, deliberately plain double-precision transcription of PyTorch's <c>torch/optim/lbfgs.py</c>
/// (<c>LBFGS.step</c>, <c>_strong_wolfe</c>, <c>_cubic_interpolate</c>) with Python-style lists for the history and the
/// bracket, used only as a golden reference for <see cref="Lbfgs"/>. One <see cref="Step"/> is one PyTorch
/// <c>step(closure)</c>.
/// </summary>
internal sealed class TorchLbfgsReference(double lr, int historySize, double toleranceGrad, double toleranceChange, bool strongWolfe)
{
    public delegate double Closure(double[] x, double[] gradient);

    /// <summary>One iteration as PyTorch would see it after the step: parameters, t and the running func_evals.</summary>
    public sealed record Iteration(double[] Parameters, double T, int FuncEvals);

    private double[]? _d;
    private double _t;
    private List<double[]> _oldDirs = [];
    private List<double[]> _oldStps = [];
    private List<double> _ro = [];
    private double _hDiag;
    private double[]? _prevFlatGrad;
    private int _nIter;
    private int _funcEvals;

    public List<Iteration> Iterations { get; } = [];

    /// <summary>How often each line-search branch ran, so a test can show which paths it compared.</summary>
    public SortedDictionary<string, int> Branches { get; } = new(StringComparer.Ordinal);

    private void Hit(string branch) => Branches[branch] = Branches.GetValueOrDefault(branch) + 1;

    public string StopReason { get; private set; } = "";

    public void Step(double[] x, Closure closure, int maxIter, int? maxEvalOrNull = null)
    {
        int maxEval = maxEvalOrNull ?? maxIter * 5 / 4;
        var flatGrad = new double[x.Length];
        double loss = closure(x, flatGrad);
        int currentEvals = 1;
        _funcEvals++;
        if (flatGrad.Max(Math.Abs) <= toleranceGrad)
        {
            StopReason = "tolerance_grad";
            return;
        }

        int nIter = 0;
        while (nIter < maxIter)
        {
            nIter++;
            _nIter++;
            if (_nIter == 1)
            {
                _d = flatGrad.Select(v => -v).ToArray();
                _oldDirs = [];
                _oldStps = [];
                _ro = [];
                _hDiag = 1;
            }
            else
            {
                var y = flatGrad.Zip(_prevFlatGrad!, (a, b) => a - b).ToArray();
                var s = _d!.Select(v => v * _t).ToArray();
                double ys = Dot(y, s);
                if (ys > 1e-10)
                {
                    if (_oldDirs.Count == historySize)
                    {
                        _oldDirs.RemoveAt(0);
                        _oldStps.RemoveAt(0);
                        _ro.RemoveAt(0);
                    }

                    _oldDirs.Add(y);
                    _oldStps.Add(s);
                    _ro.Add(1.0 / ys);
                    _hDiag = ys / Dot(y, y);
                }

                int numOld = _oldDirs.Count;
                var al = new double[numOld];
                var q = flatGrad.Select(v => -v).ToArray();
                for (int i = numOld - 1; i >= 0; i--)
                {
                    al[i] = Dot(_oldStps[i], q) * _ro[i];
                    Axpy(-al[i], _oldDirs[i], q);
                }

                var r = q.Select(v => v * _hDiag).ToArray();
                for (int i = 0; i < numOld; i++)
                {
                    double beI = Dot(_oldDirs[i], r) * _ro[i];
                    Axpy(al[i] - beI, _oldStps[i], r);
                }

                _d = r;
            }

            _prevFlatGrad = (double[])flatGrad.Clone();
            double prevLoss = loss;
            _t = _nIter == 1 ? Math.Min(1.0, 1.0 / flatGrad.Sum(Math.Abs)) * lr : lr;
            double gtd = Dot(flatGrad, _d);
            if (gtd > -toleranceChange)
            {
                StopReason = "gtd";
                return;
            }

            int lsFuncEvals = 0;
            if (strongWolfe)
            {
                var xInit = (double[])x.Clone();
                (loss, flatGrad, _t, lsFuncEvals) = StrongWolfe(closure, xInit, _t, _d, loss, flatGrad, gtd);
                Axpy(_t, _d, x);
            }
            else
            {
                Axpy(_t, _d, x);
                if (nIter != maxIter)
                {
                    flatGrad = new double[x.Length];
                    loss = closure(x, flatGrad);
                    lsFuncEvals = 1;
                }
            }

            bool optCond = flatGrad.Max(Math.Abs) <= toleranceGrad;
            currentEvals += lsFuncEvals;
            _funcEvals += lsFuncEvals;
            Iterations.Add(new Iteration((double[])x.Clone(), _t, _funcEvals));

            if (nIter == maxIter) { StopReason = "max_iter"; return; }
            if (currentEvals >= maxEval) { StopReason = "max_eval"; return; }
            if (optCond) { StopReason = "tolerance_grad"; return; }
            if (_d.Max(v => Math.Abs(v * _t)) <= toleranceChange) { StopReason = "tolerance_change_step"; return; }
            if (Math.Abs(loss - prevLoss) < toleranceChange) { StopReason = "tolerance_change_loss"; return; }
        }
    }

    private (double F, double[] G, double T, int Evals) StrongWolfe(Closure closure, double[] x, double t, double[] d,
        double f, double[] g, double gtd, double c1 = 1e-4, double c2 = 0.9, double toleranceChange = 1e-9, int maxLs = 25)
    {
        double dNorm = d.Max(Math.Abs);
        (double fNew, double[] gNew) = Evaluate(closure, x, t, d);
        int lsFuncEvals = 1;
        double gtdNew = Dot(gNew, d);

        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        double[] gPrev = g;
        bool done = false;
        int lsIter = 0;
        List<double> bracket = [], bracketF = [], bracketGtd = [];
        List<double[]> bracketG = [];
        while (lsIter < maxLs)
        {
            if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev))
            {
                Hit(fNew > f + c1 * t * gtd ? "bracket: Armijo fails" : "bracket: no lower than previous");
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }

            if (Math.Abs(gtdNew) <= -c2 * gtd)
            {
                Hit("bracket: strong Wolfe holds");
                (bracket, bracketF, bracketG) = ([t], [fNew], [gNew]);
                done = true;
                break;
            }

            if (gtdNew >= 0)
            {
                Hit("bracket: slope turns positive");
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }

            double minStep = t + 0.01 * (t - tPrev);
            double maxStep = t * 10;
            double tmp = t;
            t = Cubic(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            Hit(t == maxStep ? "extrapolate: clamped to 10t" : "extrapolate: cubic");
            tPrev = tmp;
            fPrev = fNew;
            gPrev = gNew;
            gtdPrev = gtdNew;
            (fNew, gNew) = Evaluate(closure, x, t, d);
            lsFuncEvals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
        }

        if (lsIter == maxLs)
        {
            Hit("bracket: out of iterations");
            (bracket, bracketF, bracketG) = ([0, t], [f, fNew], [g, gNew]);
        }

        bool insufProgress = false;
        (int lowPos, int highPos) = bracketF[0] <= bracketF[^1] ? (0, 1) : (1, 0);
        while (!done && lsIter < maxLs)
        {
            if (Math.Abs(bracket[1] - bracket[0]) * dNorm < toleranceChange)
            {
                Hit("zoom: bracket below tolerance");
                break;
            }

            t = Cubic(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1], null);
            double eps = 0.1 * (bracket.Max() - bracket.Min());
            if (Math.Min(bracket.Max() - t, t - bracket.Min()) < eps)
            {
                if (insufProgress || t >= bracket.Max() || t <= bracket.Min())
                {
                    Hit(insufProgress ? "zoom: moved off the end after insufficient progress" : "zoom: moved off the end it hit");
                    t = Math.Abs(t - bracket.Max()) < Math.Abs(t - bracket.Min()) ? bracket.Max() - eps : bracket.Min() + eps;
                    insufProgress = false;
                }
                else
                {
                    Hit("zoom: insufficient progress noted");
                    insufProgress = true;
                }
            }
            else
            {
                insufProgress = false;
            }

            (fNew, gNew) = Evaluate(closure, x, t, d);
            lsFuncEvals++;
            gtdNew = Dot(gNew, d);
            lsIter++;

            if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos])
            {
                Hit(fNew > f + c1 * t * gtd ? "zoom: Armijo fails, new high" : "zoom: no lower than low, new high");
                bracket[highPos] = t;
                bracketF[highPos] = fNew;
                bracketG[highPos] = gNew;
                bracketGtd[highPos] = gtdNew;
                (lowPos, highPos) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0);
            }
            else
            {
                if (Math.Abs(gtdNew) <= -c2 * gtd)
                {
                    Hit("zoom: strong Wolfe holds");
                    done = true;
                }
                else if (gtdNew * (bracket[highPos] - bracket[lowPos]) >= 0)
                {
                    Hit("zoom: old low becomes high");
                    bracket[highPos] = bracket[lowPos];
                    bracketF[highPos] = bracketF[lowPos];
                    bracketG[highPos] = bracketG[lowPos];
                    bracketGtd[highPos] = bracketGtd[lowPos];
                }

                bracket[lowPos] = t;
                bracketF[lowPos] = fNew;
                bracketG[lowPos] = gNew;
                bracketGtd[lowPos] = gtdNew;
            }
        }

        return (bracketF[lowPos], bracketG[lowPos], bracket[lowPos], lsFuncEvals);
    }

    private static double Cubic(double x1, double f1, double g1, double x2, double f2, double g2, (double Min, double Max)? bounds)
    {
        var (xminBound, xmaxBound) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square >= 0)
        {
            double d2 = Math.Sqrt(d2Square);
            double minPos = x1 <= x2
                ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
            return Math.Min(Math.Max(minPos, xminBound), xmaxBound);
        }

        return (xminBound + xmaxBound) / 2.0;
    }

    private static (double F, double[] G) Evaluate(Closure closure, double[] x, double t, double[] d)
    {
        var point = (double[])x.Clone();
        Axpy(t, d, point);
        var gradient = new double[x.Length];
        return (closure(point, gradient), gradient);
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).Sum();

    private static void Axpy(double alpha, double[] x, double[] y)
    {
        for (int i = 0; i < y.Length; i++)
        {
            y[i] += alpha * x[i];
        }
    }
}
