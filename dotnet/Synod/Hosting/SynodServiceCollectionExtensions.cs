using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Synod.Hosting;

namespace Synod;

/// <summary>Registers Synod nodes in a Generic Host or ASP.NET Core application.</summary>
public static class SynodServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="RaftNode"/> and an <see cref="IHostedService"/> that starts
    /// it with the host and disposes it when the host stops. The node logs through
    /// <see cref="ILogger{RaftNode}"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Fills in the node's configuration.</param>
    /// <param name="onCreated">Runs before the node starts, typically to attach event handlers, so no
    /// event is missed.</param>
    public static IServiceCollection AddSynodRaftNode(
        this IServiceCollection services, Action<RaftConfiguration> configure, Action<IServiceProvider, RaftNode>? onCreated = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddSynodRaftNode(_ =>
        {
            var configuration = new RaftConfiguration();
            configure(configuration);
            return configuration;
        }, onCreated);
    }

    /// <summary>As <see cref="AddSynodRaftNode(IServiceCollection, Action{RaftConfiguration}, Action{IServiceProvider, RaftNode}?)"/>,
    /// with a configuration built from the service provider.</summary>
    public static IServiceCollection AddSynodRaftNode(
        this IServiceCollection services, Func<IServiceProvider, RaftConfiguration> configuration,
        Action<IServiceProvider, RaftNode>? onCreated = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(sp => Create(sp, configuration, onCreated));
        // Added directly, not with AddHostedService, which would merge registrations of one type.
        services.AddSingleton<IHostedService>(sp => new RaftNodeHostedService(sp.GetRequiredService<RaftNode>()));
        return services;
    }

    /// <summary>
    /// Registers a keyed singleton <see cref="RaftNode"/> (resolve it with
    /// <c>GetRequiredKeyedService&lt;RaftNode&gt;(serviceKey)</c> or <c>[FromKeyedServices]</c>) and its
    /// hosted service, so one application can host several nodes.
    /// </summary>
    public static IServiceCollection AddKeyedSynodRaftNode(
        this IServiceCollection services, object serviceKey, Func<IServiceProvider, RaftConfiguration> configuration,
        Action<IServiceProvider, RaftNode>? onCreated = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddKeyedSingleton(serviceKey, (sp, _) => Create(sp, configuration, onCreated));
        services.AddSingleton<IHostedService>(sp => new RaftNodeHostedService(sp.GetRequiredKeyedService<RaftNode>(serviceKey)));
        return services;
    }

    private static RaftNode Create(
        IServiceProvider services, Func<IServiceProvider, RaftConfiguration> configuration, Action<IServiceProvider, RaftNode>? onCreated)
    {
        var node = new RaftNode(configuration(services), services.GetService<ILogger<RaftNode>>());
        onCreated?.Invoke(services, node);
        return node;
    }
}
