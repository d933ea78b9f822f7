using Synod.Interop;

namespace Synod;

/// <summary>
/// An in-process network connecting the nodes of one process without sockets (tests,
/// simulations, examples), with fault injection. Nodes keep the network alive, so it may
/// be disposed before them.
/// </summary>
public sealed class RaftNetwork : IDisposable
{
    private readonly SafeNetworkHandle _handle;

    /// <summary>Creates a network.</summary>
    public RaftNetwork()
    {
        int status = NativeMethods.NetworkNew(out _handle);
        _handle.TrackCreated();
        SynodException.ThrowIfFailed(status, "synod_network_new");
    }

    internal SafeNetworkHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle;
        }
    }

    /// <summary>Cuts every link to and from <paramref name="nodeId"/>; the node keeps running, alone.</summary>
    public void Isolate(ulong nodeId) =>
        SynodException.ThrowIfFailed(NativeMethods.NetworkIsolate(Handle, nodeId), "synod_network_isolate");

    /// <summary>Restores every link cut by <see cref="Isolate"/>.</summary>
    public void Heal() => SynodException.ThrowIfFailed(NativeMethods.NetworkHeal(Handle), "synod_network_heal");

    /// <summary>Releases this reference to the network; nodes using it keep it running.</summary>
    public void Dispose() => _handle.Dispose();
}
