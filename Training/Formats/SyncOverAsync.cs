namespace Cis490.Training.Formats;

/// <summary>Runs Parquet.Net's async-only calls behind our synchronous API without risking a deadlock.</summary>
internal static class SyncOverAsync
{
    // Task.Run starts the work on the thread pool, with no SynchronizationContext and the default TaskScheduler, so no
    // continuation inside the library can be queued to the calling thread that is blocked here (an actor's dispatcher,
    // a UI loop), whatever context that caller runs in.
    public static void Run(Func<Task> work) => Task.Run(work).GetAwaiter().GetResult();

    public static T Run<T>(Func<Task<T>> work) => Task.Run(work).GetAwaiter().GetResult();
}
