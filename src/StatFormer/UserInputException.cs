namespace StatFormer;

/// <summary>
/// A problem with what the user gave us (a file, an option value, a checkpoint). The CLI prints
/// its message as one line and exits non-zero, without a stack trace, so the message must name
/// the culprit (file path and line, or the option name and the accepted values).
/// </summary>
public sealed class UserInputException : Exception
{
    public UserInputException(string message) : base(message) { }
    public UserInputException(string message, Exception inner) : base(message, inner) { }
}
