using StatFormer.Reporting;

namespace StatFormer.Tests.Reporting;

public class MarkdownReportTests
{
    [Fact]
    public void BuildsHeadingsParagraphsAndImages()
    {
        var report = new MarkdownReport("WordAttack");
        report.Heading("Results");
        report.Heading("Details", 3);
        report.Paragraph("Perplexity on the attacked test set.");
        report.Image("perplexity vs rate", "plots/ppl vs rate.png");

        Assert.Equal(
            "# WordAttack\n\n## Results\n\n### Details\n\nPerplexity on the attacked test set.\n\n![perplexity vs rate](plots/ppl%20vs%20rate.png)\n",
            report.ToString());
    }

    [Fact]
    public void TableEscapesPipesAndHasTheHeaderColumnCount()
    {
        var report = new MarkdownReport("t");
        report.Table(new[] { "model", "ppl | clean", "ppl attacked" },
            new[]
            {
                new[] { "softmax", "34.1 ± 0.2", "a|b" },
                new[] { "elliptical", "33.8 ± 0.1", "line\nbreak" },
            });

        var lines = report.ToString().Split('\n').Where(l => l.StartsWith('|')).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal("| model | ppl \\| clean | ppl attacked |", lines[0]);
        Assert.Equal("| --- | --- | --- |", lines[1]);
        Assert.Equal("| softmax | 34.1 ± 0.2 | a\\|b |", lines[2]);
        Assert.Equal("| elliptical | 33.8 ± 0.1 | line break |", lines[3]);
        // Unescaped pipes delimit exactly 3 columns on every line.
        foreach (var line in lines)
        {
            var separators = line.Where((c, i) => c == '|' && (i == 0 || line[i - 1] != '\\')).Count();
            Assert.Equal(4, separators);
        }
    }

    [Fact]
    public void TableRejectsRowsOfTheWrongWidth()
    {
        var report = new MarkdownReport("t");
        Assert.Throws<ArgumentException>(() => report.Table(new[] { "a", "b" }, new[] { new[] { "1" } }));
    }

    [Fact]
    public void HeadingLevelMustBeOneToSix()
    {
        var report = new MarkdownReport("t");
        Assert.Throws<ArgumentOutOfRangeException>(() => report.Heading("x", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => report.Heading("x", 7));
    }

    [Fact]
    public void SaveWritesTheText()
    {
        var dir = Directory.CreateTempSubdirectory("statformer-md-").FullName;
        try
        {
            var report = new MarkdownReport("Saved");
            report.Paragraph("body");
            var path = Path.Combine(dir, "sub", "report.md");
            report.Save(path);
            Assert.Equal(report.ToString(), File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
