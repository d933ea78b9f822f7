// One node alone in its cluster: elected, one entry committed and delivered, disposed.
using Synod;

using var network = new RaftNetwork();
await using var node = new RaftNode(new RaftConfiguration { NodeId = 1, Members = { 1 }, Network = network });
var delivered = new TaskCompletionSource<RaftLog>(TaskCreationOptions.RunContinuationsAsynchronously);
node.OnReplicationReceived += (_, log) => delivered.TrySetResult(log);
node.Start();
await node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(10));
ReplicationResult result = await node.ReplicateLogsAsync(1, "smoke", new byte[] { 1, 2, 3 });
RaftLog log = await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10));
if (!result.Success || log.Type != "smoke" || log.Data.Length != 3)
{
    Console.Error.WriteLine($"package smoke test: FAILED ({result.Status}, type '{log.Type}')");
    return 1;
}
Console.WriteLine($"package smoke test: OK (libsynod {RaftNode.NativeVersion}, entry {result.LogIndex})");
return 0;
