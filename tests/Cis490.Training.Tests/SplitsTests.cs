using Cis490.Training.Data;

namespace Cis490.Training.Tests;

public class SplitsTests
{
    private static readonly string[] Laptop = ["elliott-thinkpad"];
    private static readonly FeatureTable Table = SyntheticFeatureTable.Generate(3000, 8).Table;

    [Fact]
    public void No_row_is_in_more_than_one_part_and_every_row_is_in_one()
    {
        var split = Splits.Make(Table, "host", Laptop, 0);
        var all = split.Train.Concat(split.Val).Concat(split.Test).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, Table.Rows), all.Order());
        Assert.Empty(split.Train.Intersect(split.Val));
        Assert.Empty(split.Train.Intersect(split.Test));
        Assert.Empty(split.Val.Intersect(split.Test));
    }

    [Fact]
    public void Test_rows_are_exactly_the_rows_of_other_hosts()
    {
        var split = Splits.Make(Table, "host", Laptop, 0);
        var otherHost = Enumerable.Range(0, Table.Rows).Where(i => Table.Hosts[i] != "elliott-thinkpad");
        Assert.Equal(otherHost, split.Test);
        Assert.All(split.Train.Concat(split.Val), i => Assert.Equal("elliott-thinkpad", Table.Hosts[i]));
    }

    [Fact]
    public void Both_hosts_as_train_hosts_leave_no_test_rows()
    {
        var split = Splits.Make(Table, "host", SyntheticFeatureTable.Hosts, 0);
        Assert.Empty(split.Test);
        Assert.Equal(Table.Rows, split.Train.Length + split.Val.Length);
    }

    [Fact]
    public void Validation_is_about_a_fifth_of_the_train_host_rows()
    {
        var split = Splits.Make(Table, "host", Laptop, 0);
        var share = split.Val.Length / (double)(split.Train.Length + split.Val.Length);
        Assert.InRange(share, 0.16, 0.24);
    }

    [Fact]
    public void Same_seed_gives_the_same_split_and_another_seed_a_different_one()
    {
        var a = Splits.Make(Table, "host", Laptop, 4);
        var b = Splits.Make(Table, "host", Laptop, 4);
        var c = Splits.Make(Table, "host", Laptop, 5);
        Assert.Equal(a.Val, b.Val);
        Assert.Equal(a.Train, b.Train);
        Assert.NotEqual(a.Val, c.Val);
        Assert.Equal(a.Test, c.Test); // the seed only moves rows between train and validation
    }

    [Fact]
    public void Validation_membership_follows_the_row_id_not_the_row_position()
    {
        // Rows are bucketed by (row id, seed): reordering the file must not move a row between train and validation.
        var reversed = new FeatureTable
        {
            RowIds = Table.RowIds.Reverse().ToArray(), Hosts = Table.Hosts.Reverse().ToArray(),
            Labels = Table.Labels.Reverse().ToArray(), Columns = Table.Columns, Values = new float[Table.Values.Length],
        };
        var forward = Splits.Make(Table, "host", Laptop, 1).Val.Select(i => Table.RowIds[i]).Order();
        var backward = Splits.Make(reversed, "host", Laptop, 1).Val.Select(i => reversed.RowIds[i]).Order();
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void Unknown_recipe_throws_and_names_it()
    {
        var e = Assert.Throws<ArgumentException>(() => Splits.Make(Table, "time", Laptop, 0));
        Assert.Contains("'time'", e.Message);
    }

    [Fact]
    public void A_train_host_with_no_rows_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Splits.Make(Table, "host", ["nobody"], 0));
        Assert.Contains("nobody", e.Message);
    }
}
