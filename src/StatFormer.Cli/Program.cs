using StatFormer.Cli;

return StatFormerCli.Run(args);
