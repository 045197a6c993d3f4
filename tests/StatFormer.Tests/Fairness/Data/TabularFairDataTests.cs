using StatFormer.Fairness.Data;
using StatFormer.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace StatFormer.Tests.Fairness.Data;

public sealed class TabularFairDataTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private const string AdultTrain =
        "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n" +
        "50, ?, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, >50K\n" +
        "38, Private, 215646, HS-grad, 9, Divorced, ?, Not-in-family, Black, Female, 0, 0, 40, ?, <=50K\n" +
        "53, Private, 234721, 11th, 7, Married-civ-spouse, Handlers-cleaners, Husband, Black, Male, 0, 0, 40, United-States, >50K\n" +
        "\n";

    private const string AdultTest =
        "|1x3 Cross validator\n" +
        "25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Female, 0, 0, 40, United-States, <=50K.\n" +
        "44, Never-worked, 160323, Some-college, 10, Married-civ-spouse, ?, Husband, White, Male, 7688, 0, 40, United-States, >50K.\n" +
        "\n";

    private string WriteAdult(string train = AdultTrain, string test = AdultTest)
    {
        File.WriteAllText(_temp.File("adult.data"), train);
        File.WriteAllText(_temp.File("adult.test"), test);
        return _temp.Path;
    }

    [Fact]
    public void SmallAdult_KeepsMissingAsCategory_StripsTestPeriods_ExcludesSensitiveColumn()
    {
        using var data = TabularFairData.LoadAdult(WriteAdult(), SensitiveAttribute.Sex);
        Assert.Equal((4, 2), (data.Train.Count, data.Test.Count));
        Assert.Equal(new long[] { 0, 1, 0, 1 }, data.Train.Targets.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1 }, data.Test.Targets.data<long>().ToArray());
        Assert.Contains("workclass=?", data.FeatureNames);
        Assert.Contains("occupation=?", data.FeatureNames);
        Assert.Contains("native-country=?", data.FeatureNames);
        Assert.Contains("race=Black", data.FeatureNames);
        Assert.DoesNotContain(data.FeatureNames, f => f.StartsWith("sex", StringComparison.Ordinal));
        Assert.Equal(new[] { "sex=Female", "sex=Male" }, data.SensitiveNames);
        Assert.Equal(new[] { "Female", "Male" }, data.GroupNames);
        Assert.Equal(new long[] { 1, 1, 0, 1 }, data.Train.Groups.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 1, 0, 1, 1, 0, 0, 1 }, data.Train.Sensitive.data<float>().ToArray());

        // Numeric columns are standardised with the train statistics: age mean 45, population sd √43.5.
        var ageColumn = data.FeatureNames.ToList().IndexOf("age");
        using var testInputs = data.Test.Inputs([0L, 1L]);
        Assert.Equal((25 - 45) / Math.Sqrt(43.5), testInputs[0, ageColumn].item<float>(), 1e-5);
        // A test category never seen in train ("Never-worked") encodes as all zeros in its block.
        var workclass = data.FeatureNames.Select((f, j) => (f, j)).Where(p => p.f.StartsWith("workclass=", StringComparison.Ordinal)).Select(p => p.j).ToArray();
        Assert.Equal(3, workclass.Length);   // "?", Private, State-gov
        Assert.All(workclass, j => Assert.Equal(0f, testInputs[1, j].item<float>()));
        Assert.Equal(1f, workclass.Sum(j => testInputs[0, j].item<float>()));
    }

    [Fact]
    public void SmallAdult_SexAndRace_CombinationGroups()
    {
        using var data = TabularFairData.LoadAdult(WriteAdult(), SensitiveAttribute.Sex | SensitiveAttribute.Race);
        Assert.Equal(new[] { "sex=Female", "sex=Male", "race=Black", "race=White" }, data.SensitiveNames);
        Assert.Equal(new[] { "Female/Black", "Female/White", "Male/Black", "Male/White" }, data.GroupNames);
        Assert.Equal(new long[] { 3, 3, 0, 2 }, data.Train.Groups.data<long>().ToArray());
        Assert.DoesNotContain(data.FeatureNames, f => f.StartsWith("race", StringComparison.Ordinal) || f.StartsWith("sex", StringComparison.Ordinal));
    }

    [Fact]
    public void Adult_BadColumnCount_NamesFileAndLine()
    {
        var badTrain = AdultTrain.Replace("Black, Female, 0, 0, 40, ?, <=50K", "Black, Female, 0, 0, 40, <=50K");
        var dir = WriteAdult(train: badTrain);
        var e = Assert.Throws<InvalidDataException>(() => TabularFairData.LoadAdult(dir, SensitiveAttribute.Sex));
        Assert.Contains(_temp.File("adult.data"), e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("expected 15", e.Message);
        Assert.Contains("found 14", e.Message);
    }

    [Fact]
    public void Adult_BadLabelAndMissingFile_AreUserErrors()
    {
        var dir = WriteAdult(test: AdultTest.Replace(">50K.", "rich"));
        var e = Assert.Throws<InvalidDataException>(() => TabularFairData.LoadAdult(dir, SensitiveAttribute.Race));
        Assert.Contains(_temp.File("adult.test"), e.Message);
        Assert.Contains("line 3", e.Message);

        File.Delete(_temp.File("adult.test"));
        var missing = Assert.Throws<FileNotFoundException>(() => TabularFairData.LoadAdult(dir, SensitiveAttribute.Race));
        Assert.Contains(_temp.File("adult.test"), missing.Message);
        Assert.Throws<ArgumentException>(() => TabularFairData.LoadAdult(dir, 0));
    }

    [Fact]
    public void RealAdult_RowCountsAndPositiveRate()
    {
        using var data = TabularFairData.LoadAdult(TestData.Path("adult"), SensitiveAttribute.Sex | SensitiveAttribute.Race);
        Assert.Equal((32561, 16281), (data.Train.Count, data.Test.Count));
        using var trainRate = data.Train.Targets.to_type(ScalarType.Float64).mean();
        using var testRate = data.Test.Targets.to_type(ScalarType.Float64).mean();
        Assert.InRange(trainRate.item<double>(), 0.235, 0.245);   // 7841 / 32561 = 0.2408
        Assert.InRange(testRate.item<double>(), 0.230, 0.240);    // 3846 / 16281 = 0.2362
        Assert.Equal(7, data.SensitiveDim);                        // 2 sexes + 5 races
        Assert.Equal(10, data.GroupNames.Count);
        Assert.Equal(data.FeatureNames.Count, data.Train.InputDim);
        Assert.DoesNotContain(data.FeatureNames, f => f.StartsWith("race", StringComparison.Ordinal) || f.StartsWith("sex", StringComparison.Ordinal));
        using var all = data.Train.Inputs(Enumerable.Range(0, 32561).Select(i => (long)i).ToArray());
        Assert.True(torch.isfinite(all).all().item<bool>());
    }

    [Fact]
    public void RealCompas_LoadsAllRowsWithoutIdentifyingColumns()
    {
        using var data = TabularFairData.LoadCompas(TestData.Path("compas"), SensitiveAttribute.Race, seed: 1);
        Assert.Equal(7214, data.Train.Count + data.Test.Count);
        Assert.Equal(5771, data.Train.Count);
        using var rate = torch.cat([data.Train.Targets, data.Test.Targets]).to_type(ScalarType.Float64).mean();
        Assert.Equal(3251.0 / 7214, rate.item<double>(), 1e-9);
        Assert.Equal(6, data.SensitiveDim);
        string[] allowed = ["age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count", "c_charge_degree=", "age_cat="];
        Assert.All(data.FeatureNames, f => Assert.Contains(allowed, a => f == a || (a.EndsWith('=') && f.StartsWith(a, StringComparison.Ordinal))));
        Assert.Equal(5 + 2 + 3, data.FeatureNames.Count);
        foreach (var forbidden in new[] { "name", "first", "last", "dob", "id", "decile", "score", "sex", "race" })
            Assert.DoesNotContain(data.FeatureNames, f => f.StartsWith(forbidden, StringComparison.Ordinal));

        using var again = TabularFairData.LoadCompas(TestData.Path("compas"), SensitiveAttribute.Race, seed: 1);
        using var other = TabularFairData.LoadCompas(TestData.Path("compas"), SensitiveAttribute.Race, seed: 2);
        Assert.True(TensorAssert.SameTensor(data.Train.Targets, again.Train.Targets));
        using var firstRows = data.Train.Inputs([0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L]);
        using var otherRows = other.Train.Inputs([0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L]);
        Assert.False(TensorAssert.SameTensor(firstRows, otherRows));
    }

    [Fact]
    public void CompasLikeCsv_QuotedFieldsAndBadRows()
    {
        const string header = "id,name,sex,age,age_cat,race,juv_fel_count,juv_misd_count,juv_other_count,priors_count,c_charge_degree,c_charge_desc,two_year_recid\n";
        var rows =
            "1,\"Doe, Jane\",Female,30,25 - 45,Caucasian,0,0,0,1,F,\"Battery, \"\"simple\"\"\",0\n" +
            "2,\"Roe, Rick\",Male,22,Less than 25,African-American,1,0,0,3,M,Theft,1\n" +
            "3,Poe,Male,50,Greater than 45,Caucasian,0,0,0,0,F,\"multi\nline\",0\n" +
            "4,Moe,Female,41,25 - 45,African-American,0,0,1,2,M,Theft,1\n" +
            "5,Zoe,Male,35,25 - 45,Caucasian,0,0,0,4,F,Theft,1\n";
        File.WriteAllText(_temp.File("compas-scores-two-years.csv"), header + rows);
        using var data = TabularFairData.LoadCompas(_temp.Path, SensitiveAttribute.Sex | SensitiveAttribute.Race, seed: 0);
        Assert.Equal((4, 1), (data.Train.Count, data.Test.Count));
        Assert.Equal(new[] { "Female/African-American", "Female/Caucasian", "Male/African-American", "Male/Caucasian" }, data.GroupNames);

        // A row with a missing field is reported by its starting line (the quoted line break counts).
        File.AppendAllText(_temp.File("compas-scores-two-years.csv"), "6,Foe,Male,35,25 - 45,Caucasian,0,0,0,4,F,0\n");
        var e = Assert.Throws<InvalidDataException>(() => TabularFairData.LoadCompas(_temp.Path, SensitiveAttribute.Sex, seed: 0));
        Assert.Contains("line 8", e.Message);
        Assert.Contains("expected 13", e.Message);
        Assert.DoesNotContain("Foe", e.Message);
    }
}
