using System.Reflection;
using System.Reflection.Emit;

namespace MLNet.Optimizers.Tests;

/// <summary>
/// The layers of the core package depend one way: Internal ← Optimizers ← Schedules ← Objectives ← Training ← Trainers, and only
/// Trainers may touch ML.NET. Every type of the assembly is read by reflection: its base type and interfaces, fields, method
/// signatures and locals, and every type, method or field its method bodies name (the IL's metadata tokens). Constants are
/// invisible here (the compiler copies their values), and so are attributes.
/// </summary>
public class ArchitectureTests
{
    private const string MicrosoftMl = "Microsoft.ML";

    /// <summary>Each layer of the core and the layers it may use (itself included).</summary>
    private static readonly Dictionary<string, string[]> AllowedDependencies = new()
    {
        ["MLNet.Optimizers.Internal"] = ["MLNet.Optimizers.Internal"],
        ["MLNet.Optimizers"] = ["MLNet.Optimizers", "MLNet.Optimizers.Internal"],
        ["MLNet.Optimizers.Schedules"] = ["MLNet.Optimizers.Schedules", "MLNet.Optimizers", "MLNet.Optimizers.Internal"],
        ["MLNet.Optimizers.Objectives"] =
            ["MLNet.Optimizers.Objectives", "MLNet.Optimizers.Schedules", "MLNet.Optimizers", "MLNet.Optimizers.Internal"],
        ["MLNet.Optimizers.Training"] =
        [
            "MLNet.Optimizers.Training", "MLNet.Optimizers.Objectives", "MLNet.Optimizers.Schedules", "MLNet.Optimizers",
            "MLNet.Optimizers.Internal",
        ],
        ["MLNet.Optimizers.Trainers"] =
        [
            "MLNet.Optimizers.Trainers", "MLNet.Optimizers.Training", "MLNet.Optimizers.Objectives", "MLNet.Optimizers.Schedules",
            "MLNet.Optimizers", "MLNet.Optimizers.Internal", MicrosoftMl,
        ],
    };

    private static readonly Assembly Core = typeof(TrainingLoop).Assembly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(opCode => opCode.Value);

    [Fact]
    public void Every_layer_uses_only_the_layers_below_it_and_only_Trainers_uses_MLNet()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (type, layer) in LayeredTypes())
        {
            foreach (var (used, where) in TypesUsedBy(type))
            {
                if (LayerOf(used) is string usedLayer && !AllowedDependencies[layer].Contains(usedLayer))
                {
                    violations.Add($"{type.FullName} ({layer}) uses {used.FullName} ({usedLayer}) in {where}");
                }
            }
        }

        Assert.True(violations.Count == 0, "Dependencies against the layering:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_scan_sees_dependencies_in_signatures_and_in_method_bodies()
    {
        // Guards the test above against reading nothing: known uses from a constraint, a signature and two only found in IL.
        var trainerBase = TypesUsedBy(typeof(MLNet.Optimizers.Trainers.LinearTrainerBase<,>));
        Assert.Contains(trainerBase, use => LayerOf(use.Type) == MicrosoftMl && use.Where == "generic constraint");
        Assert.Contains(TypesUsedBy(typeof(TrainingLoop)), use => use.Type == typeof(TrainingData) && use.Where.StartsWith("signature"));
        Assert.Contains(TypesUsedBy(typeof(TrainingLoop)), use => use.Type.Name == "LbfgsRun" && use.Where.StartsWith("body"));
        Assert.Contains(TypesUsedBy(typeof(Sgd)), use => use.Type.FullName == "MLNet.Optimizers.Internal.Check" && use.Where.StartsWith("body"));
    }

    [Fact]
    public void The_core_does_not_reference_the_comparison_package_or_its_charts()
    {
        var referenced = Core.GetReferencedAssemblies().Select(name => name.Name).ToList();

        Assert.DoesNotContain("MLNet.Optimizers.Comparison", referenced);
        Assert.DoesNotContain(referenced, name => name!.StartsWith("ScottPlot", StringComparison.Ordinal));
    }

    /// <summary>The core's types that belong to a layer (compiler-generated nested types count with their outer type).</summary>
    private static IEnumerable<(Type Type, string Layer)> LayeredTypes()
    {
        foreach (var type in Core.GetTypes())
        {
            if (LayerOf(type) is string layer && layer != MicrosoftMl)
            {
                yield return (type, layer);
            }
        }
    }

    /// <summary>The layer of a type: its namespace when it is ours and layered, "Microsoft.ML" for ML.NET types, else null.</summary>
    private static string? LayerOf(Type type)
    {
        if (type.Assembly == Core)
        {
            return type.Namespace is string ns && AllowedDependencies.ContainsKey(ns) ? ns : null;
        }

        return type.Assembly.GetName().Name!.StartsWith(MicrosoftMl, StringComparison.Ordinal) ? MicrosoftMl : null;
    }

    private const BindingFlags Declared =
        BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    /// <summary>Every type <paramref name="type"/> names, with where: base type, interfaces, generic constraints, fields,
    /// signatures, locals, IL.</summary>
    private static List<(Type Type, string Where)> TypesUsedBy(Type type)
    {
        var uses = new List<(Type, string)>();
        void Add(Type? used, string where)
        {
            foreach (var part in Expand(used))
            {
                uses.Add((part, where));
            }
        }

        Add(type.BaseType, "base type");
        foreach (var implemented in type.GetInterfaces())
        {
            Add(implemented, "interface");
        }

        foreach (var parameter in type.IsGenericTypeDefinition ? type.GetGenericArguments() : [])
        {
            foreach (var constraint in parameter.GetGenericParameterConstraints())
            {
                Add(constraint, "generic constraint");
            }
        }

        foreach (var field in type.GetFields(Declared))
        {
            Add(field.FieldType, $"field {field.Name}");
        }

        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo info)
            {
                Add(info.ReturnType, $"signature of {method.Name}");
            }

            foreach (var parameter in method.GetParameters())
            {
                Add(parameter.ParameterType, $"signature of {method.Name}");
            }

            if (method.GetMethodBody() is not { } body)
            {
                continue;
            }

            foreach (var local in body.LocalVariables)
            {
                Add(local.LocalType, $"body of {method.Name} (local)");
            }

            foreach (var clause in body.ExceptionHandlingClauses.Where(c => c.Flags == ExceptionHandlingClauseOptions.Clause))
            {
                Add(clause.CatchType, $"body of {method.Name} (catch)");
            }

            foreach (var member in MembersNamedByIl(method, body.GetILAsByteArray() ?? []))
            {
                foreach (var used in TypesOf(member))
                {
                    Add(used, $"body of {method.Name}");
                }
            }
        }

        return uses;
    }

    /// <summary>The fields, methods and types the IL's metadata tokens name (ldfld, call, newobj, castclass, ldtoken, …).</summary>
    private static IEnumerable<MemberInfo> MembersNamedByIl(MethodBase method, byte[] il)
    {
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int offset = 0;
        while (offset < il.Length)
        {
            short value = il[offset++];
            if (value == 0xFE)
            {
                value = unchecked((short)(0xFE00 | il[offset++]));
            }

            OpCode opCode = OpCodesByValue[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok:
                    yield return method.Module.ResolveMember(BitConverter.ToInt32(il, offset), typeArguments, methodArguments)!;
                    offset += 4;
                    break;
                case OperandType.InlineSwitch:
                    offset += 4 + (4 * BitConverter.ToInt32(il, offset));
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    offset += 8;
                    break;
                case OperandType.InlineBrTarget or OperandType.InlineI or OperandType.InlineSig or OperandType.InlineString
                    or OperandType.ShortInlineR:
                    offset += 4;
                    break;
                case OperandType.InlineVar:
                    offset += 2;
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    offset += 1;
                    break;
            }
        }
    }

    private static IEnumerable<Type?> TypesOf(MemberInfo member) => member switch
    {
        Type type => [type],
        FieldInfo field => [field.DeclaringType, field.FieldType],
        MethodInfo method => [method.DeclaringType, method.ReturnType, .. method.GetParameters().Select(p => p.ParameterType),
            .. method.IsGenericMethod ? method.GetGenericArguments() : []],
        ConstructorInfo constructor => [constructor.DeclaringType, .. constructor.GetParameters().Select(p => p.ParameterType)],
        _ => [member.DeclaringType],
    };

    /// <summary>A type and every type inside it: array/by-ref/pointer element types and generic arguments.</summary>
    private static IEnumerable<Type> Expand(Type? type)
    {
        if (type is null || type.IsGenericParameter)
        {
            yield break;
        }

        if (type.HasElementType)
        {
            foreach (var inner in Expand(type.GetElementType()))
            {
                yield return inner;
            }

            yield break;
        }

        yield return type;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var inner in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return inner;
            }
        }
    }
}
