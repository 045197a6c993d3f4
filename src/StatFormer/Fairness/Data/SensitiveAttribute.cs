namespace StatFormer.Fairness.Data;

/// <summary>Which protected attribute(s) of a tabular dataset form z; both together give their combination.</summary>
[Flags]
public enum SensitiveAttribute
{
    Sex = 1,
    Race = 2,
}
