using System.Runtime.InteropServices;

namespace Synod.Interop;

/// <summary>Base of the native handles: counts live handles so tests can prove none leaks.</summary>
internal abstract class SynodSafeHandle : SafeHandle
{
    private static long s_live;

    protected SynodSafeHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <summary>Handles whose native object has not been released yet, across all types.</summary>
    internal static long LiveCount => Interlocked.Read(ref s_live);

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Called right after the *_new call that filled this handle.</summary>
    internal void TrackCreated()
    {
        if (!IsInvalid)
        {
            Interlocked.Increment(ref s_live);
        }
    }

    protected sealed override bool ReleaseHandle()
    {
        Free(handle);
        Interlocked.Decrement(ref s_live);
        return true;
    }

    protected abstract void Free(IntPtr pointer);
}

/// <summary>Owns a synod_config*.</summary>
internal sealed class SafeConfigHandle : SynodSafeHandle
{
    protected override void Free(IntPtr pointer) => NativeMethods.ConfigFree(pointer);
}

/// <summary>Owns a synod_network*. Nodes keep their own reference, so it may be released first.</summary>
internal sealed class SafeNetworkHandle : SynodSafeHandle
{
    protected override void Free(IntPtr pointer) => NativeMethods.NetworkFree(pointer);
}

/// <summary>Owns a synod_node*. Released only when no call is using it (SafeHandle reference
/// counting), which is what synod_node_free requires.</summary>
internal sealed class SafeNodeHandle : SynodSafeHandle
{
    protected override void Free(IntPtr pointer) => NativeMethods.NodeFree(pointer);
}
