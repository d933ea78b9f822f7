using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Synod.Tests;

/// <summary>Keeps every message logged through it, to check what reaches ILogger.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    internal ConcurrentQueue<(string Category, LogLevel Level, string Text)> Messages { get; } = new();

    /// <summary>The structured properties of every message (its template's named values).</summary>
    internal ConcurrentQueue<(LogLevel Level, IReadOnlyDictionary<string, object?> Properties)> Structured { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            owner.Messages.Enqueue((category, logLevel, formatter(state, exception)));
            if (state is IReadOnlyList<KeyValuePair<string, object?>> properties)
            {
                owner.Structured.Enqueue((logLevel, properties.ToDictionary(p => p.Key, p => p.Value)));
            }
        }
    }
}
