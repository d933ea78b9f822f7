using Synod.Interop;

namespace Synod;

/// <summary>Why the node asks the host to save its state.</summary>
public enum SnapshotReason
{
    /// <summary>In-memory model: the snapshot policy's entries or bytes were reached.</summary>
    Policy = 0,
    /// <summary><see cref="RaftNode.RequestSnapshotAsync"/> asked for it.</summary>
    Requested = 1,
    /// <summary>A follower is behind the compacted log and needs this node's state (durable model).</summary>
    Export = 2,
}

/// <summary>A save: the host's state of <paramref name="PartitionId"/> as it is at <paramref name="Index"/>.</summary>
public sealed record SnapshotSaveRequest(int PartitionId, long Index, SnapshotReason Reason);

/// <summary>An install: a snapshot of <paramref name="PartitionId"/> taken at <paramref name="Index"/> in
/// <paramref name="Term"/>, of <paramref name="Length"/> bytes. <paramref name="FromLeader"/> is true when the
/// leader sent it (this node was behind), false when it is this node's own latest snapshot, given back
/// after a restart (in-memory model).</summary>
public sealed record SnapshotInstallRequest(int PartitionId, long Index, long Term, bool FromLeader, long Length);

/// <summary>
/// The host's side of snapshots: saving its state to a stream and replacing it by one read
/// from a stream. Set on <see cref="RaftNode.SnapshotHandler"/> before <see cref="RaftNode.Start"/>.
/// </summary>
/// <remarks>
/// <para>Both are called on the node's dispatch thread, in log order with
/// <see cref="RaftNode.OnReplicationReceived"/>, and the dispatch thread waits for the returned
/// task, so no other handler runs meanwhile: the state a save sees is the state at its index,
/// and an install happens after every entry below its index and before any above it.</para>
/// <para>The streams move the data between the host and the node's checksummed snapshot files
/// in pieces, so a state larger than memory streams through. Completing the task finishes the
/// snapshot; throwing fails it (a failed save is not kept and the log stays uncompacted; a
/// failed install halts its partition, which answers <see cref="SynodStatus.Storage"/> from
/// then on). Stream failures throw <see cref="IOException"/> with the
/// <see cref="SynodException"/> as inner exception: damaged snapshot data is one.</para>
/// <para>Do not wait inside them for something that completes on the dispatch thread
/// (<see cref="RaftNode.ReadIndexAsync"/>): it would wait for itself.</para>
/// </remarks>
public interface ISnapshotHandler
{
    /// <summary>Writes the state of <see cref="SnapshotSaveRequest.PartitionId"/> to <paramref name="destination"/>
    /// (write-only, not seekable).</summary>
    Task SaveAsync(SnapshotSaveRequest request, Stream destination, CancellationToken cancellationToken);

    /// <summary>Replaces the state of <see cref="SnapshotInstallRequest.PartitionId"/> by the one read from
    /// <paramref name="source"/> (read-only, not seekable, <see cref="Stream.Length"/> known).</summary>
    Task InstallAsync(SnapshotInstallRequest request, Stream source, CancellationToken cancellationToken);
}

/// <summary>A write-only stream over a snapshot handle being saved (synod_snapshot_write).</summary>
internal sealed class SnapshotWriteStream : Stream
{
    private readonly SafeNodeHandle _node;
    private readonly ulong _handle;
    private long _written;
    private bool _closed;

    internal SnapshotWriteStream(SafeNodeHandle node, ulong handle)
    {
        _node = node;
        _handle = handle;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_closed;
    public override long Length => throw new NotSupportedException();

    /// <summary>The bytes written so far.</summary>
    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (buffer.IsEmpty)
        {
            return;
        }
        int status;
        fixed (byte* p = buffer)
        {
            status = NativeMethods.SnapshotWrite(_node, _handle, p, (nuint)buffer.Length);
        }
        SnapshotStreams.ThrowIfFailed(status, "synod_snapshot_write");
        _written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    // The native write lands in a file the node buffers: cheap enough to do inline.
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        try
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _closed = true;
        base.Dispose(disposing);
    }
}

/// <summary>A read-only stream over a snapshot handle being installed (synod_snapshot_read).</summary>
internal sealed class SnapshotReadStream : Stream
{
    private readonly SafeNodeHandle _node;
    private readonly ulong _handle;
    private readonly long _length;
    private long _read;
    private bool _closed;

    internal SnapshotReadStream(SafeNodeHandle node, ulong handle, long length)
    {
        _node = node;
        _handle = handle;
        _length = length;
    }

    public override bool CanRead => !_closed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;

    /// <summary>The bytes read so far.</summary>
    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override unsafe int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }
        int status;
        nuint got;
        fixed (byte* p = buffer)
        {
            status = NativeMethods.SnapshotRead(_node, _handle, p, (nuint)buffer.Length, out got);
        }
        SnapshotStreams.ThrowIfFailed(status, "synod_snapshot_read");
        _read += (long)got;
        return (int)got;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    // The native read comes from a local file: cheap enough to do inline.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        try
        {
            return ValueTask.FromResult(Read(buffer.Span));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _closed = true;
        base.Dispose(disposing);
    }
}

internal static class SnapshotStreams
{
    // Streams report failures as IOException; the engine's status rides along inside.
    internal static void ThrowIfFailed(int status, string operation)
    {
        if (status != 0)
        {
            SynodException failure = SynodException.FromNative(status, operation);
            throw new IOException(failure.Message, failure);
        }
    }

    // The status a snapshot handler's failure is reported with.
    internal static SynodStatus StatusOf(Exception error) => error switch
    {
        SynodException s => s.Status,
        IOException { InnerException: SynodException s } => s.Status,
        OperationCanceledException => SynodStatus.ShuttingDown,
        _ => SynodStatus.Internal,
    };
}
