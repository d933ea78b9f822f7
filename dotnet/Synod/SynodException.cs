using Synod.Interop;

namespace Synod;

/// <summary>A native call failed with <see cref="Status"/>; the message carries synod_last_error().</summary>
public class SynodException : Exception
{
    /// <summary>Creates the exception for <paramref name="status"/> with a detailed message.</summary>
    public SynodException(SynodStatus status, string message) : base(message)
    {
        Status = status;
    }

    /// <summary>The status the native call returned.</summary>
    public SynodStatus Status { get; }

    /// <summary>Builds the exception for a failed call, reading the calling thread's last error.</summary>
    internal static SynodException FromNative(int status, string operation)
    {
        string detail = NativeMethods.LastErrorText();
        string text = NativeMethods.StatusText(status);
        string message = detail.Length > 0 ? $"{operation}: {text} ({detail})" : $"{operation}: {text}";
        return new SynodException((SynodStatus)status, message);
    }

    /// <summary>Throws for any status but <see cref="SynodStatus.Ok"/>.</summary>
    internal static void ThrowIfFailed(int status, string operation)
    {
        if (status != 0)
        {
            throw FromNative(status, operation);
        }
    }
}

/// <summary>The request went to a node that does not lead the partition.</summary>
public sealed class NotLeaderException : SynodException
{
    /// <summary>Creates the exception with the leader this node knows of (0 when none).</summary>
    public NotLeaderException(int partitionId, ulong leaderHint)
        : base(SynodStatus.NotLeader, $"node is not the leader of partition {partitionId}" +
                                      (leaderHint != 0 ? $"; the leader is node {leaderHint}" : "; no leader is known"))
    {
        PartitionId = partitionId;
        LeaderHint = leaderHint;
    }

    /// <summary>The partition of the request.</summary>
    public int PartitionId { get; }

    /// <summary>The leader as this node knows it; 0 when none is known.</summary>
    public ulong LeaderHint { get; }
}
