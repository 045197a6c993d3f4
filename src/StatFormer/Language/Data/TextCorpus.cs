namespace StatFormer.Language.Data;

/// <summary>A language-modelling corpus already split into train, validation and test text.</summary>
public sealed record TextCorpus(string Name, string Train, string Valid, string Test);
