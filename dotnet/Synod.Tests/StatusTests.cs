using Synod.Interop;

namespace Synod.Tests;

/// <summary>SynodStatus against the loaded libsynod. That the members match the C codes one
/// for one is checked against the status table by CTest (tests/status).</summary>
public sealed class StatusTests
{
    [Fact]
    public void TheLibraryNamesEveryStatus()
    {
        foreach (SynodStatus status in Enum.GetValues<SynodStatus>())
        {
            Assert.NotEqual("unknown status", NativeMethods.StatusText((int)status));
        }
    }

    [Fact]
    public void ConfChangePendingIsTheLibrarysCode()
    {
        Assert.Equal(-16, (int)SynodStatus.ConfChangePending);
        Assert.Equal("a membership change is already in progress",
                     NativeMethods.StatusText((int)SynodStatus.ConfChangePending));
    }
}
