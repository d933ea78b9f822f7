using Microsoft.Extensions.Hosting;

namespace Synod.Hosting;

/// <summary>Starts a <see cref="RaftNode"/> with the host and disposes it when the host stops.</summary>
public sealed class RaftNodeHostedService : IHostedService
{
    private readonly RaftNode _node;

    /// <summary>Hosts <paramref name="node"/>.</summary>
    public RaftNodeHostedService(RaftNode node)
    {
        _node = node;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _node.Start();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => _node.DisposeAsync().AsTask().WaitAsync(cancellationToken);
}
